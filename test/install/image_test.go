package install

import (
	"bufio"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

// TestDockerfile keeps the Dockerfile consistent with the Deployment and the static
// build: no Docker engine runs here, so this is what checks it.
func TestDockerfile(t *testing.T) {
	f, err := os.Open(filepath.Join(repoRoot(t), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var froms, users, entrypoints []string
	var build string
	sc := bufio.NewScanner(f)
	var cont strings.Builder
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			cont.WriteString(strings.TrimSuffix(line, `\`) + " ")
			continue
		}
		line = cont.String() + line
		cont.Reset()
		instr, rest, _ := strings.Cut(line, " ")
		switch strings.ToUpper(instr) {
		case "FROM":
			froms = append(froms, rest)
		case "USER":
			users = append(users, rest)
		case "ENTRYPOINT":
			entrypoints = append(entrypoints, rest)
		case "RUN":
			if strings.Contains(rest, "go build") {
				build = rest
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(froms) < 2 {
		t.Fatalf("FROM %v: want a multi-stage build", froms)
	}
	final := strings.Fields(froms[len(froms)-1])[0]
	if !strings.HasPrefix(final, "gcr.io/distroless/static") && final != "scratch" {
		t.Errorf("final stage FROM %s, want distroless/static or scratch", final)
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "./cmd/webhook"} {
		if !strings.Contains(build, want) {
			t.Errorf("the go build step %q lacks %s", build, want)
		}
	}

	dep := decode[appsv1.Deployment](t, buildBase(t).one(t, "Deployment", ""))
	pod := dep.Spec.Template.Spec
	wantUser := strconv.FormatInt(*pod.SecurityContext.RunAsUser, 10) + ":" + strconv.FormatInt(*pod.SecurityContext.RunAsGroup, 10)
	if len(users) == 0 || users[len(users)-1] != wantUser {
		t.Errorf("USER %v, want the Deployment's numeric %s last (runAsNonRoot can only verify a numeric user)", users, wantUser)
	}
	if len(entrypoints) != 1 || entrypoints[0] != `["/webhook"]` {
		t.Errorf("ENTRYPOINT %v, want [\"/webhook\"] in exec form (there is no shell)", entrypoints)
	}
	if c := pod.Containers[0]; len(c.Command) != 0 {
		t.Errorf("the Deployment overrides the entrypoint with %v", c.Command)
	}

	ignore, err := os.ReadFile(filepath.Join(repoRoot(t), ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(ignore), "\n")
	for _, private := range []string{"certs", "config/without-cert-manager/certs", ".local"} {
		if !slices.Contains(lines, private) {
			t.Errorf(".dockerignore does not exclude %s: private keys would enter the build context", private)
		}
	}
}

// TestStaticBuild builds the webhook the way the Dockerfile does and checks that the
// result is a static executable, which distroless/static (no libc) can run.
func TestStaticBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the webhook; skipped under -short")
	}
	out := filepath.Join(t.TempDir(), "webhook")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-trimpath", "-o", out, "./cmd/webhook")
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if output, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build ./cmd/webhook: %v\n%s", err, output)
	}
	bin, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer bin.Close()
	for _, p := range bin.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("the webhook binary asks for a dynamic loader: it would not start on distroless/static")
		}
	}
	if libs, _ := bin.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the webhook binary links %v", libs)
	}
}
