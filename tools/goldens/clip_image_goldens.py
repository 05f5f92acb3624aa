"""Golden pixels for Tessera's CLIP image preprocessing (dev.tessera.image).

Runs OpenAI CLIP's preprocess (torchvision Resize(size, BICUBIC) -> CenterCrop(size) ->
convert("RGB") -> ToTensor -> Normalize) with Pillow 9.4 and torch, spelled out without
torchvision (Debian has none):
  * Resize(int): shorter side = size, longer = int(size * long / short), then
    PIL Image.resize(..., BICUBIC) on the image in its own mode (RGBA is premultiplied by
    Pillow, resized, un-premultiplied; "P" palette images are resized NEAREST by Pillow).
  * CenterCrop: top = int(round((h - size) / 2.0)), left likewise (Python round: half to even).
  * convert("RGB"): drops alpha / expands the palette.
  * ToTensor: float32 / 255, CHW; Normalize: (x - mean) / std in float32.

Writes the synthetic test images (deterministic) into java-api/src/test/resources/images/clip/
and the goldens into java-api/src/test/resources/goldens/clip/preprocess_{224,336}.safetensors:
  NAME.decoded  U8 [H, W, 3]  the file as PIL decodes it, convert("RGB") (small images only)
  NAME.resized  U8 [h, w, 3]  after the resize, before the crop (convert("RGB") applied)
  NAME.cropped  U8 [S, S, 3]  after the crop
  NAME.pixels   F32 [3, S, S] the final normalised tensor (CLIP.png only, to keep files small)
Run: /usr/bin/python3 tools/goldens/clip_image_goldens.py   (needs python3-pil 9.x, torch)
"""
import os
import shutil

import numpy as np
import PIL
import torch
from PIL import Image

from st_io import save

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IMG_DIR = os.path.join(ROOT, "java-api/src/test/resources/images/clip")
GOLD_DIR = os.path.join(ROOT, "java-api/src/test/resources/goldens/clip")
SHARED_CLIP_PNG = os.path.join(ROOT, "..", "shared", "testdata", "clip", "CLIP.png")
MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)


def make_images():
    os.makedirs(IMG_DIR, exist_ok=True)
    src = SHARED_CLIP_PNG if os.path.exists(SHARED_CLIP_PNG) else "/work/shared/testdata/clip/CLIP.png"
    dst = os.path.join(IMG_DIR, "CLIP.png")
    if not os.path.exists(dst):
        shutil.copyfile(src, dst)
    rng = np.random.default_rng(20261126)

    # 37x23 RGBA: noise colours, alpha covering 0, 255 and partial values (premultiply path).
    a = rng.integers(0, 256, size=(23, 37, 4), dtype=np.uint8)
    a[:, :5, 3] = 0
    a[:, 5:10, 3] = 255
    a[0, :, 3] = 128
    Image.fromarray(a, "RGBA").save(os.path.join(IMG_DIR, "rgba_37x23.png"))

    # 640x480 RGB gradient with a hard-edged checker block (overshoot -> clipping between passes).
    y, x = np.mgrid[0:480, 0:640]
    g = np.stack([x * 255 // 639, y * 255 // 479, (x + y) * 255 // 1118], axis=-1).astype(np.uint8)
    checker = (((x // 3) + (y // 3)) % 2 * 255).astype(np.uint8)
    block = (x >= 200) & (x < 440) & (y >= 120) & (y < 360)
    for c in range(3):
        g[..., c][block] = checker[block]
    Image.fromarray(g, "RGB").save(os.path.join(IMG_DIR, "gradient_640x480.png"))

    # 1x300 strip: the extreme aspect ratio (resized to 224 x 67200).
    s = rng.integers(0, 256, size=(300, 1, 3), dtype=np.uint8)
    Image.fromarray(s, "RGB").save(os.path.join(IMG_DIR, "strip_1x300.png"))

    # 50x40 greyscale ("L") and 45x31 palette ("P", resized NEAREST by Pillow).
    l = rng.integers(0, 256, size=(40, 50), dtype=np.uint8)
    Image.fromarray(l, "L").save(os.path.join(IMG_DIR, "gray_50x40.png"))
    p = Image.fromarray(rng.integers(0, 256, size=(31, 45, 3), dtype=np.uint8), "RGB").quantize(colors=16)
    p.save(os.path.join(IMG_DIR, "palette_45x31.png"))

    # Same pixels in other containers: BMP (RGB) and GIF (palette), read exactly by both sides.
    Image.fromarray(a[..., :3].copy(), "RGB").save(os.path.join(IMG_DIR, "rgb_37x23.bmp"))
    p.save(os.path.join(IMG_DIR, "palette_45x31.gif"))

    # JPEG (4:2:0, odd size so chroma edges are exercised): the JDK decoder is checked against libjpeg.
    yj, xj = np.mgrid[0:61, 0:97]
    photo = np.stack([(xj * 5 + yj * 2) % 256, (xj * yj) % 256, ((xj // 5 + yj // 5) % 2) * 200 + 20], -1).astype(np.uint8)
    photo = np.clip(photo.astype(np.int16) + rng.integers(-20, 21, size=photo.shape), 0, 255).astype(np.uint8)
    Image.fromarray(photo, "RGB").save(os.path.join(IMG_DIR, "photo_97x61.jpg"), quality=90)

    # Bad files for the error tests.
    with open(os.path.join(IMG_DIR, "not_an_image.png"), "w") as f:
        f.write("this is a text file, not a PNG\n")
    with open(os.path.join(IMG_DIR, "gradient_640x480.png"), "rb") as f:
        data = f.read()
    with open(os.path.join(IMG_DIR, "truncated.png"), "wb") as f:
        f.write(data[: len(data) // 3])


def resized_size(w, h, size):
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    return (new_short, new_long) if w <= h else (new_long, new_short)


def rgb_u8(im):
    return torch.from_numpy(np.array(im.convert("RGB"), dtype=np.uint8).copy())


def preprocess(im, size):
    w, h = resized_size(im.width, im.height, size)
    resized = im.resize((w, h), Image.BICUBIC)
    top = int(round((h - size) / 2.0))
    left = int(round((w - size) / 2.0))
    cropped = resized.crop((left, top, left + size, top + size))
    rgb = rgb_u8(cropped)
    x = rgb.permute(2, 0, 1).contiguous().to(torch.float32).div(255)
    mean = torch.as_tensor(MEAN, dtype=torch.float32)[:, None, None]
    std = torch.as_tensor(STD, dtype=torch.float32)[:, None, None]
    pixels = x.sub(mean).div(std)
    return rgb_u8(resized), rgb, pixels


def main():
    assert PIL.__version__.startswith("9."), PIL.__version__
    make_images()
    plan = {
        # name: (file, store decoded, store resized, store pixels) per size
        224: [("CLIP", "CLIP.png", False, True, True),
              ("rgba_37x23", "rgba_37x23.png", True, True, False),
              ("gradient_640x480", "gradient_640x480.png", False, True, False),
              ("strip_1x300", "strip_1x300.png", True, False, False),
              ("gray_50x40", "gray_50x40.png", True, True, False),
              ("palette_45x31", "palette_45x31.png", True, True, False),
              ("rgb_37x23_bmp", "rgb_37x23.bmp", True, False, False),
              ("palette_45x31_gif", "palette_45x31.gif", True, False, False),
              ("photo_97x61_jpg", "photo_97x61.jpg", True, True, False)],
        336: [("CLIP", "CLIP.png", False, False, True),
              ("rgba_37x23", "rgba_37x23.png", False, False, False)],
    }
    for size, items in plan.items():
        tensors = {}
        meta = {"pillow": PIL.__version__, "torch": torch.__version__, "size": size}
        for name, fname, keep_decoded, keep_resized, keep_pixels in items:
            im = Image.open(os.path.join(IMG_DIR, fname))
            im.load()
            meta[name + ".mode"] = im.mode
            if keep_decoded:
                tensors[name + ".decoded"] = rgb_u8(im)
            resized, cropped, pixels = preprocess(im, size)
            if keep_resized:
                tensors[name + ".resized"] = resized
            tensors[name + ".cropped"] = cropped
            if keep_pixels:
                tensors[name + ".pixels"] = pixels
        save(os.path.join(GOLD_DIR, "preprocess_%d.safetensors" % size), tensors, meta)


if __name__ == "__main__":
    main()
