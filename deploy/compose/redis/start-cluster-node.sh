#!/bin/sh
# Starts one node of the cluster compose file (cluster.yaml), announcing its
# host name on the compose network.
set -eu
exec redis-server /etc/redis/cluster.conf --cluster-announce-hostname "${REDIS_ANNOUNCE_HOST:?}"
