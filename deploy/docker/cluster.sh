#!/bin/sh
# A 3-node pushflo cluster in containers, with plain `docker run` (Debian's
# docker.io ships no compose plugin), clients served over TLS.
#
#   deploy/docker/cluster.sh up CERT_DIR     start n1..n3
#   deploy/docker/cluster.sh down            stop them, remove network and volumes
#
# CERT_DIR holds cert.pem and key.pem (readable by uid 10001) for the names
# clients use. Settings from the environment:
#   IMAGE       image to run (pushflo:latest)
#   PREFIX      name prefix of containers, network and volumes (pushflo)
#   HTTP_PORT   host port of n1's HTTPS API on 127.0.0.1; n2, n3 follow (8443)
#   SUBNET      the cluster network, a /24 whose .11-.13 the nodes take (172.28.5)
#   CLUSTER_SECRET, PUBLISH_KEY, SECRET_KEY, MGMT_KEY   (generated when empty,
#               printed at the end)
set -eu
IMAGE=${IMAGE:-pushflo:latest}
PREFIX=${PREFIX:-pushflo}
HTTP_PORT=${HTTP_PORT:-8443}
SUBNET=${SUBNET:-172.28.5}
net=$PREFIX-net

rand() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

case "${1:-}" in
up)
	certs=$(cd "${2:?usage: cluster.sh up CERT_DIR}" && pwd)
	CLUSTER_SECRET=${CLUSTER_SECRET:-$(rand)}
	PUBLISH_KEY=${PUBLISH_KEY:-pub_$(rand)}
	SECRET_KEY=${SECRET_KEY:-sec_$(rand)}
	MGMT_KEY=${MGMT_KEY:-mgmt_$(rand)}
	docker network create --subnet "$SUBNET.0/24" "$net" >/dev/null
	peers="n1=$SUBNET.11:7000,n2=$SUBNET.12:7000,n3=$SUBNET.13:7000"
	for i in 1 2 3; do
		docker run -d --name "$PREFIX-n$i" --hostname "n$i" \
			--network "$net" --ip "$SUBNET.1$i" \
			-p "127.0.0.1:$((HTTP_PORT + i - 1)):8080" \
			-v "$PREFIX-n$i-data:/data" -v "$certs:/certs:ro" \
			--restart no \
			-e PUSHFLO_NODE_ID="n$i" \
			-e PUSHFLO_ADVERTISE_RAFT_ADDR="$SUBNET.1$i:7000" \
			-e PUSHFLO_BOOTSTRAP_PEERS="$peers" \
			-e PUSHFLO_CLUSTER_SECRET="$CLUSTER_SECRET" \
			-e PUSHFLO_PUBLISH_KEY="$PUBLISH_KEY" \
			-e PUSHFLO_SECRET_KEY="$SECRET_KEY" \
			-e PUSHFLO_MGMT_KEY="$MGMT_KEY" \
			-e PUSHFLO_TLS_CERT=/certs/cert.pem \
			-e PUSHFLO_TLS_KEY=/certs/key.pem \
			-e PUSHFLO_LOG_FORMAT=json \
			-e PUSHFLO_URL=https://127.0.0.1:8080/ready \
			-e PUSHFLO_INSECURE=true \
			"$IMAGE" >/dev/null
		echo "n$i: https://127.0.0.1:$((HTTP_PORT + i - 1))  (container $PREFIX-n$i, raft $SUBNET.1$i:7000, volume $PREFIX-n$i-data)"
	done
	echo "publish key $PUBLISH_KEY"
	echo "secret key  $SECRET_KEY"
	echo "mgmt key    $MGMT_KEY"
	;;
down)
	for i in 1 2 3; do docker rm -f "$PREFIX-n$i" >/dev/null 2>&1 || true; done
	for i in 1 2 3; do docker volume rm "$PREFIX-n$i-data" >/dev/null 2>&1 || true; done
	docker network rm "$net" >/dev/null 2>&1 || true
	;;
*)
	echo "usage: $0 up CERT_DIR | down" >&2
	exit 2
	;;
esac
