#!/usr/bin/env bash
# demo.sh BIN: install the ICD-10-CM and ICD-10-PCS releases and run medcode
# on them. Releases come from $SHARED (../shared/data beside the checkout)
# when it exists, otherwise from the publisher with "medcode fetch".
# $MEDCODE_DATA says where they are installed. The FY2025 Official
# Guidelines are installed from $SHARED too, so that the explained output
# quotes them.
set -euo pipefail
bin=${1:?usage: demo.sh path/to/medcode}
shared=${SHARED:-}

step() { printf '\n\033[1m$ medcode %s\033[0m\n' "$*"; "$bin" "$@"; }

if [ -n "$shared" ] && [ -d "$shared/icd10cm" ]; then
  echo "Installing releases from $shared"
  for d in "$shared"/icd10cm/*/; do "$bin" import --system icd10cm --from "$d"; done
  for d in "$shared"/icd10pcs/*/; do "$bin" import --system icd10pcs --from "$d"; done
else
  echo "No shared data folder: downloading releases from the publisher"
  "$bin" fetch icd10cm
  "$bin" fetch icd10pcs
fi

# The Official Guidelines, which the trails quote (without them a trail
# cites medcode's built-in summary of each guideline section).
guides=${shared:+$shared/guidelines/cm-fy2025/fy-2025-icd-10-cm-coding-guidelines.layout.txt}
if [ -n "$guides" ] && [ -f "$guides" ]; then
  step guidelines import --year 2025 "$guides"
  step rules check
else
  echo "No guidelines to install: the trails cite the built-in summaries of the guideline sections"
fi

step releases
step code --explain examples/discharge-summary.txt
step lookup E11.36
step lookup S52.521A
step validate E11.9 S52.521A T36.0X1A S52.521 E11.99 0DTJ4ZZ || true
step lookup 0DTJ4ZZ
step search -n 5 --release 2021 "type 2 diabetes with cataract"
step search -n 5 --release 2021 "acute on chronic systolic heart failure"
step search -n 5 --release 2026 "fall from ladder"
step search -n 5 --release 2026 "malignant neoplasm of upper lobe of lung"
step search -n 5 --release 2026 "acetaminophen poisoning"
step search -n 5 --system icd10pcs "laparoscopic appendectomy"
printf "\n\033[1m$ medcode diff icd10pcs 2025 2026\033[0m (first lines)\n"
"$bin" diff icd10pcs 2025 2026 | sed -n 1,12p
