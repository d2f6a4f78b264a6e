#!/usr/bin/env python3
"""Builds photos-idx4-ubyte.gz: the background photographs of the photo-blended digit domains (MNIST-M-style).

Input: the sample images that Debian's scikit-image package ships (python3-skimage 0.19.3:
/usr/lib/python3/dist-packages/skimage/data/). Each photo is centre-cropped to a square, resized to 224 x 224 (Lanczos)
and stored as uint8 RGB in one IDX file (4 x 224 x 224 x 3). Run: apt-get install python3-skimage python3-pil python3-numpy,
then python3 make_photos.py [skimage data folder].
"""
import gzip
import struct
import sys

import numpy as np
from PIL import Image

PHOTOS = ["astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg"]
SIZE = 224

folder = sys.argv[1] if len(sys.argv) > 1 else "/usr/lib/python3/dist-packages/skimage/data"
images = []
for name in PHOTOS:
    image = Image.open(f"{folder}/{name}").convert("RGB")
    side = min(image.size)
    left, top = (image.size[0] - side) // 2, (image.size[1] - side) // 2
    images.append(np.asarray(image.crop((left, top, left + side, top + side)).resize((SIZE, SIZE), Image.LANCZOS), dtype=np.uint8))
data = np.stack(images)
with gzip.GzipFile("photos-idx4-ubyte.gz", "wb", mtime=0) as f:
    f.write(struct.pack(">BBBB", 0, 0, 0x08, 4))
    f.write(struct.pack(">IIII", *data.shape))
    f.write(data.tobytes())
print("photos-idx4-ubyte.gz", data.shape)
