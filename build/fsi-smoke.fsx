// F# Interactive smoke test of the packed library: TorchSharp loads from the NuGet cache (no build output, so no
// build-time native fix), the library trains DANN, evaluates, saves and reloads. build/package-smoke.sh runs a copy of
// this script with __FEED__ and __VERSION__ replaced by its temporary feed and the packed version:
//   dotnet fsi fsi-smoke.fsx
// On Debian 12 (libstdc++ without GLIBCXX_3.4.32) this works only through the library's own preload of a patched
// libLibTorchSharp.so (src/Microsoft.ML.DomainAdaptation/Native/LibTorchSharpPreload.cs).
#i "nuget: __FEED__"
#r "nuget: Microsoft.ML.DomainAdaptation, __VERSION__"
// The application chooses its libtorch (here Linux x64, CPU), as with ML.NET's own TorchSharp package.
#r "nuget: libtorch-cpu-linux-x64, 2.10.0"

open System
open System.IO
open Microsoft.ML
open Microsoft.ML.Data
open Microsoft.ML.DomainAdaptation

[<CLIMutable>]
type Row = { [<VectorType(4)>] Features: float32[]; Label: string }

/// Two Gaussian blobs in 4-d (class "a" around −1, "b" around +1, sd 0.5), shifted by `shift` (the domain gap).
let blobs count (shift: float32) (seed: int) =
    let random = Random(seed)
    [ for i in 0 .. count - 1 ->
        let centre = if i % 2 = 0 then -1.0f else 1.0f
        let gaussian () = float32 (Math.Sqrt(-2.0 * Math.Log(1.0 - random.NextDouble())) * Math.Cos(2.0 * Math.PI * random.NextDouble()))
        { Features = Array.init 4 (fun _ -> gaussian () * 0.5f + centre + shift); Label = (if i % 2 = 0 then "a" else "b") } ]

let started = Diagnostics.Stopwatch.StartNew()
let ml = MLContext(seed = 1)
let source = ml.Data.LoadFromEnumerable(blobs 200 0.0f 1)
let target = ml.Data.LoadFromEnumerable(blobs 200 0.5f 2)
let targetTest = ml.Data.LoadFromEnumerable(blobs 200 0.5f 3)
let data = ml.Data.CombineDomains(source, target)

let pipeline =
    EstimatorChain<ITransformer>()
      .Append(ml.Transforms.Conversion.MapValueToKey("Label"))
      .Append(ml.Transforms.DomainAdapt(
          DannOptions(Iterations = 50, BatchSize = 16, Seed = 1,
                      Backbone = MlpBackboneOptions(HiddenLayerSizes = [| 16 |], EmbeddingSize = 8))))
let model = pipeline.Fit(data)
let metrics = ml.MulticlassClassification.Evaluate(model.Transform(targetTest))

let path = Path.Combine(Path.GetTempPath(), sprintf "da-fsi-smoke-%s.zip" (Guid.NewGuid().ToString("N")))
let reloadedAccuracy =
    try
        ml.Model.Save(model, data.Schema, path)
        let loaded, _ = MLContext(seed = 2).Model.Load(path)
        ml.MulticlassClassification.Evaluate(loaded.Transform(targetTest)).MicroAccuracy
    finally
        File.Delete path

printfn "fsi smoke: DANN target accuracy %.4f, after save and load %.4f, %.1f s" metrics.MicroAccuracy reloadedAccuracy started.Elapsed.TotalSeconds
if not (metrics.MicroAccuracy > 0.8) || reloadedAccuracy <> metrics.MicroAccuracy then
    eprintfn "fsi smoke: FAILED (expected accuracy above 0.8, the same after save and load)"
    exit 1
