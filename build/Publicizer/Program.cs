// Writes a copy of an assembly in which every type and member is public, so that a project can compile against
// internals of a library it binds to at run time through [IgnoresAccessChecksTo]. Usage: Publicizer <in.dll> <out.dll>
using System;
using System.IO;
using System.Linq;
using Mono.Cecil;

if (args.Length != 2)
{
    Console.Error.WriteLine("usage: Publicizer <input.dll> <output.dll>");
    return 2;
}

var resolver = new DefaultAssemblyResolver();
resolver.AddSearchDirectory(Path.GetDirectoryName(Path.GetFullPath(args[0])));
using var assembly = AssemblyDefinition.ReadAssembly(args[0], new ReaderParameters { AssemblyResolver = resolver });

foreach (var type in assembly.MainModule.GetTypes())
{
    if (IsCompilerGenerated(type))
        continue;
    if (type.IsNested)
        type.IsNestedPublic = true;
    else
        type.IsPublic = true;

    // An event and its backing field share a name: leave such fields alone so member lookup stays unambiguous.
    var eventNames = type.Events.Select(e => e.Name).ToHashSet();
    foreach (var field in type.Fields)
    {
        if (!IsCompilerGenerated(field) && !eventNames.Contains(field.Name))
            field.IsPublic = true;
    }
    foreach (var method in type.Methods)
    {
        if (IsCompilerGenerated(method))
            continue;
        // Explicit interface implementations stay private: made public, they would clash by name.
        if (method.IsPrivate && method.Overrides.Count > 0)
            continue;
        method.IsPublic = true;
    }
}

Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(args[1])));
var temp = args[1] + ".tmp";
assembly.Write(temp);
File.Move(temp, args[1], overwrite: true);
return 0;

static bool IsCompilerGenerated(ICustomAttributeProvider member) =>
    member.HasCustomAttributes &&
    member.CustomAttributes.Any(a => a.AttributeType.FullName == "System.Runtime.CompilerServices.CompilerGeneratedAttribute");
