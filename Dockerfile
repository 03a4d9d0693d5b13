# Gatewarden's webhook image: a static Go binary on distroless, running as non-root.
#   make image                      # needs a Docker (or compatible) engine
#   make image IMG=registry.example.com/gatewarden:v0.1.0
# The binary is built with CGO_ENABLED=0, so it needs no libc and the final image
# holds nothing else: no shell, no package manager (the Deployment's preStop hook is
# a native sleep for that reason). test/install checks this file against the
# Deployment (user, entrypoint) and that the static build works.

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
# Set by BuildKit from --platform (docker buildx build --platform linux/arm64 ...).
ARG TARGETOS
ARG TARGETARCH
WORKDIR /src
# Dependencies first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w" -o /out/webhook ./cmd/webhook

# distroless/static: CA certificates, /etc/passwd with the nonroot user (65532), tzdata.
FROM gcr.io/distroless/static:nonroot
COPY --from=build /out/webhook /webhook
# The same numeric user as the Deployment's securityContext, so runAsNonRoot can verify it.
USER 65532:65532
EXPOSE 9443 8080 8081
ENTRYPOINT ["/webhook"]
