#!/usr/bin/env bash
# A few real photographs (bundled with Debian's python3-skimage) as an image-folder data source
# for the 224x224 example models. Kept if present.
# Usage: scripts/copy_photos.sh DIR
set -euo pipefail
dir=$1
photos=/usr/lib/python3/dist-packages/skimage/data
mkdir -p "$dir"
for f in astronaut.png camera.png chelsea.png coffee.png coins.png hubble_deep_field.jpg ihc.png moon.png \
         motorcycle_left.png motorcycle_right.png page.png rocket.jpg grass.png gravel.png brick.png \
         retina.jpg horse.png text.png logo.png color.png; do
  [[ -f $photos/$f && ! -f $dir/$f ]] && cp "$photos/$f" "$dir/"
done
true
