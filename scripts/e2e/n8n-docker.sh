#!/usr/bin/env bash
# n8n in Docker for the n8n 3 workflows (.github/workflows/n8n3.yml and the post-release smoke in release.yml).
# n8n 3 ships only as a Docker image; this machine reaches no Docker registry, GitHub Actions does.
#
#   scripts/e2e/n8n-docker.sh image            the newest n8n 3.x.y tag on Docker Hub (N8N_IMAGE wins when set)
#   scripts/e2e/n8n-docker.sh start [ARGS...]  runs it as container "n8n" on the host network, its
#                                              /home/node/.n8n a host folder ($N8N_HOME); ARGS go to docker run
#                                              (e.g. -e N8N_COMMUNITY_PACKAGES=...)
#   scripts/e2e/n8n-docker.sh wait [SECONDS]   until http://127.0.0.1:$N8N_PORT/healthz/readiness answers 200
#   scripts/e2e/n8n-docker.sh restart          restarts it and waits (it loads community packages at start-up)
#   scripts/e2e/n8n-docker.sh logs             its log
#
# Settings every n8n 3 container running this package needs: N8N_UNVERIFIED_PACKAGES_ENABLED=true (3.0 turned
# the default to false: unverified packages neither install nor load). For the tests only: SSRF protection off
# (the LlamaCloud sandbox listens on 127.0.0.1), no telemetry, no secure cookie over plain HTTP. A task-runner
# auth token: 3.0 keeps only N8N_RUNNERS_MODE=external, and n8n's TaskRunnerModule (2.41.1 and the master
# copy read) refuses to start in external mode without N8N_RUNNERS_AUTH_TOKEN (MissingAuthTokenError); the
# package runs no Code, so no runner needs to connect.
set -euo pipefail

N8N_PORT="${N8N_PORT:-5678}"
N8N_HOME="${N8N_HOME:-${RUNNER_TEMP:-/tmp}/n8n-home/.n8n}"

newest_image() {
	if [ -n "${N8N_IMAGE:-}" ]; then echo "$N8N_IMAGE"; return; fi
	local tag
	tag="$(curl -fsS 'https://hub.docker.com/v2/repositories/n8nio/n8n/tags?page_size=100&name=3.' |
		node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>{const t=JSON.parse(s).results.map((r)=>r.name).filter((n)=>/^3\.\d+\.\d+$/.test(n));t.sort((a,b)=>{const x=a.split(".").map(Number),y=b.split(".").map(Number);return x[0]-y[0]||x[1]-y[1]||x[2]-y[2]});if(!t.length)process.exit(1);console.log(t[t.length-1])})')"
	echo "docker.n8n.io/n8nio/n8n:${tag}"
}

wait_ready() {
	local limit="${1:-180}" started=$SECONDS
	until curl -fsS -o /dev/null "http://127.0.0.1:${N8N_PORT}/healthz/readiness"; do
		if ! docker ps --format '{{.Names}}' | grep -qx n8n; then
			echo "n8n exited:" >&2; docker logs n8n 2>&1 | tail -50 >&2; exit 1
		fi
		if [ $((SECONDS - started)) -ge "$limit" ]; then
			echo "n8n not ready after ${limit} s:" >&2; docker logs n8n 2>&1 | tail -50 >&2; exit 1
		fi
		sleep 2
	done
	echo "n8n ready on port ${N8N_PORT} after $((SECONDS - started)) s"
}

case "${1:-}" in
	image) newest_image ;;
	start)
		shift
		image="$(newest_image)"
		mkdir -p "$N8N_HOME"
		# The image runs as user node (uid 1000).
		sudo chown -R 1000:1000 "$N8N_HOME" 2>/dev/null || chown -R 1000:1000 "$N8N_HOME"
		echo "starting ${image}"
		docker run -d --name n8n --network host \
			-v "${N8N_HOME}:/home/node/.n8n" \
			-e N8N_PORT="${N8N_PORT}" -e N8N_LISTEN_ADDRESS=127.0.0.1 \
			-e N8N_EDITOR_BASE_URL="http://127.0.0.1:${N8N_PORT}" -e WEBHOOK_URL="http://127.0.0.1:${N8N_PORT}/" \
			-e N8N_UNVERIFIED_PACKAGES_ENABLED=true \
			-e N8N_SSRF_PROTECTION_ENABLED=false \
			-e N8N_SECURE_COOKIE=false -e N8N_DIAGNOSTICS_ENABLED=false -e N8N_VERSION_NOTIFICATIONS_ENABLED=false \
			-e N8N_RUNNERS_BROKER_PORT="${N8N_RUNNERS_BROKER_PORT:-5679}" \
			-e N8N_RUNNERS_AUTH_TOKEN="${N8N_RUNNERS_AUTH_TOKEN:-e2e-runners-$(date +%s)}" \
			-e GENERIC_TIMEZONE=UTC \
			"$@" "$image" >/dev/null
		docker exec n8n n8n --version
		wait_ready 240
		;;
	wait) wait_ready "${2:-180}" ;;
	restart) docker restart n8n >/dev/null && wait_ready 240 ;;
	logs) docker logs n8n 2>&1 ;;
	*) sed -n '2,14p' "$0"; exit 2 ;;
esac
