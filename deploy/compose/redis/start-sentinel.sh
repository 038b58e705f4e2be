#!/bin/sh
# Starts one Redis Sentinel of the compose file. Sentinel must be able to
# rewrite its config file (it records the current primary, the replicas and
# the other sentinels there), so it runs from a copy in its own volume.
set -eu
conf=/data/sentinel.conf
if [ ! -f "$conf" ]; then
  cp /etc/redis/sentinel.conf "$conf"
  echo "sentinel announce-ip ${SENTINEL_ANNOUNCE_HOST:?}" >> "$conf"
fi
exec redis-server "$conf" --sentinel
