#!/bin/sh
# The image's entrypoint: with BOXOFFICE_MIGRATE_ON_START=1, apply the migrations first; then run
# the command (by default `boxoffice serve`). Let one container migrate, not every replica at once.
set -e
case "${BOXOFFICE_MIGRATE_ON_START:-0}" in
  1|true|yes) boxoffice migrate ;;
esac
exec "$@"
