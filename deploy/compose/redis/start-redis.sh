#!/bin/sh
# Starts one Redis node of the compose file. The first start copies the
# shared redis.conf into the node's volume and adds its own lines; later
# starts reuse that copy, which Sentinel may have rewritten (after a
# failover an old primary comes back as a replica of the new one).
set -eu
conf=/data/redis.conf
if [ ! -f "$conf" ]; then
  cp /etc/redis/redis.conf "$conf"
  echo "replica-announce-ip ${REDIS_ANNOUNCE_HOST:?}" >> "$conf"
  if [ -n "${REDIS_REPLICAOF:-}" ]; then
    echo "replicaof $REDIS_REPLICAOF 6379" >> "$conf"
  fi
fi
exec redis-server "$conf"
