#!/bin/bash
# make docker-test: builds the image and runs the container tests
# (TestDocker_*). Needs docker.io; when dockerd is installed but not running
# it is started for the run and stopped after. Either way the host's
# iptables FORWARD policy and net.bridge.bridge-nf-call-iptables, which
# dockerd changes (FORWARD DROP, 1) and which other network-namespace tests
# on this machine depend on, are put back as they were found.
set -u
cd "$(dirname "$0")/../.."
GO=${GO:-go}

if ! command -v docker >/dev/null 2>&1; then
	echo "docker-test SKIPPED: no docker on PATH (apt-get install -y docker.io)"
	exit 0
fi

forward_policy=$(iptables -S FORWARD 2>/dev/null | awk '$1=="-P"{print $3}')
bridge_nf=$(sysctl -n net.bridge.bridge-nf-call-iptables 2>/dev/null || true)
started_dockerd=""
restore() {
	if [ -n "$started_dockerd" ]; then
		echo "stopping the dockerd this run started (pid $started_dockerd)"
		kill "$started_dockerd" 2>/dev/null
		for _ in $(seq 1 100); do kill -0 "$started_dockerd" 2>/dev/null || break; sleep 0.2; done
	fi
	if [ -n "$forward_policy" ]; then iptables -P FORWARD "$forward_policy"; fi
	if [ -n "$bridge_nf" ]; then sysctl -qw net.bridge.bridge-nf-call-iptables="$bridge_nf"; fi
	echo "restored: iptables FORWARD policy ${forward_policy:-unchanged}, net.bridge.bridge-nf-call-iptables=${bridge_nf:-unchanged}"
}
trap restore EXIT

if ! docker info >/dev/null 2>&1; then
	if ! command -v dockerd >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
		echo "docker-test SKIPPED: dockerd is not running and cannot be started here (needs root and docker.io)"
		exit 0
	fi
	echo "starting dockerd for this run (log: /tmp/pushflo-dockerd.log)"
	dockerd >/tmp/pushflo-dockerd.log 2>&1 &
	started_dockerd=$!
	for _ in $(seq 1 150); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
	if ! docker info >/dev/null 2>&1; then
		echo "docker-test FAILED: dockerd did not come up; its log:"
		tail -20 /tmp/pushflo-dockerd.log
		exit 1
	fi
fi

make image IMAGE="${IMAGE:-pushflo:latest}" || exit 1
PUSHFLO_IMAGE="${IMAGE:-pushflo:latest}" $GO test -tags 'integration docker' -count=1 -timeout 10m -run 'TestDocker' -v ./cmd/pushflo/
