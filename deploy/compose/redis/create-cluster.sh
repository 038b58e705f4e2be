#!/bin/sh
# Makes the Redis Cluster of cluster.yaml once: three primaries with two
# replicas each (redis-cli --cluster create, which splits the 16384 slots
# evenly and puts each replica on another node than its primary). Nodes
# that already form a cluster (a restart of the project) are left as they
# are.
set -eu
nodes="redis-c1 redis-c2 redis-c3 redis-c4 redis-c5 redis-c6 redis-c7 redis-c8 redis-c9"
for n in $nodes; do
  until redis-cli -h "$n" ping > /dev/null 2>&1; do sleep 1; done
done
if redis-cli -h redis-c1 cluster info | grep -q '^cluster_state:ok'; then
  echo "the cluster is already formed"
  exit 0
fi
# redis-cli --cluster create takes addresses; the nodes announce host names.
addrs=""
for n in $nodes; do
  addrs="$addrs $(getent hosts "$n" | awk '{print $1; exit}'):6379"
done
# shellcheck disable=SC2086 # one word per address
exec redis-cli --cluster create $addrs --cluster-replicas 2 --cluster-yes
