#!/usr/bin/env bash
# Pack the Python packages the engine needs that a lent GPU machine's image lacks (monai, nibabel,
# SimpleITK, and nilearn's three MNI152 files) into .devsite/site.tar.xz, from this checkout's .venv.
# A call's working tree may carry 64 MiB in all: SimpleITK's wheel alone is 53 MB (one 272 MB library),
# which xz packs into about 29 MB, so this archive (about 37 MB) fits beside the repository where the
# wheels would not. nilearn is cut down to its template files: the engine only looks them up next to
# the package (template.template_dir) and never imports it.
# On the device: python3 -c "import tarfile; tarfile.open('.devsite/site.tar.xz').extractall('/tmp/site')"
# then PYTHONPATH=/tmp/site (scripts/device_train.sh does this itself).
set -euo pipefail
cd "$(dirname "$0")/.."
site=$(.venv/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
for package in monai nibabel SimpleITK; do
  cp -r "$site/$package" "$stage/"
done
mkdir -p "$stage/nilearn/datasets/data"
: >"$stage/nilearn/__init__.py"
cp "$site"/nilearn/datasets/data/mni_icbm152_{t1,gm,wm}_tal_nlin_sym_09a_converted.nii.gz "$stage/nilearn/datasets/data/"
find "$stage" -name __pycache__ -prune -exec rm -rf {} +
mkdir -p .devsite
# -T2: this machine's two cores; -6 packs SimpleITK's library within a minute
tar -C "$stage" -cf - . | xz -6 -T2 >.devsite/site.tar.xz.part
mv .devsite/site.tar.xz.part .devsite/site.tar.xz
ls -la .devsite/site.tar.xz
