// Package generate checks that the generated files are those make generate makes from the
// API types in pkg/apis: the CRDs in config/crd and the deep copies next to the types.
package generate

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"gatewarden.dev/gatewarden/test/localenv"
)

// TestGeneratedFilesUpToDate runs hack/generate.sh (the pinned controller-gen, built into
// bin/ first if it is missing or was built from another version) on a copy of its inputs
// in a temporary directory, and fails if config/crd or a zz_generated file differs from
// the committed one, is missing, or is committed but no longer generated.
func TestGeneratedFilesUpToDate(t *testing.T) {
	root, err := localenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	for _, f := range []string{"go.mod", "go.sum", filepath.Join("hack", "boilerplate.go.txt")} {
		copyFile(t, filepath.Join(root, f), filepath.Join(tmp, f))
	}
	// The types only: committed output must not feed back into its own generation.
	err = filepath.WalkDir(filepath.Join(root, "pkg", "apis"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || isGenerated(d.Name()) {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		copyFile(t, path, filepath.Join(tmp, rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	cmd := exec.CommandContext(t.Context(), "bash", filepath.Join(root, "hack", "generate.sh"), tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hack/generate.sh: %v\n%s", err, out)
	}

	want, got := generated(t, tmp), generated(t, root)
	if len(want) == 0 {
		t.Fatal("controller-gen generated nothing")
	}
	for _, rel := range union(want, got) {
		w, inWant := want[rel]
		g, inGot := got[rel]
		switch {
		case !inGot:
			t.Errorf("%s is not committed: run make generate", rel)
		case !inWant:
			t.Errorf("%s is no longer generated: delete it (and run make generate)", rel)
		case w != g:
			t.Errorf("%s differs from what controller-gen makes: run make generate (-committed +generated):\n%s", rel, cmp.Diff(strings.Split(g, "\n"), strings.Split(w, "\n")))
		}
	}
}

// generated returns the generated files under dir by their path relative to it: every
// YAML file in config/crd but its kustomization.yaml, and every zz_generated Go file in
// pkg/apis.
func generated(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	add := func(path string) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.ToSlash(rel)] = string(data)
	}
	crds, err := filepath.Glob(filepath.Join(dir, "config", "crd", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range crds {
		if filepath.Base(f) != "kustomization.yaml" {
			add(f)
		}
	}
	err = filepath.WalkDir(filepath.Join(dir, "pkg", "apis"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && isGenerated(d.Name()) {
			add(path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func isGenerated(name string) bool {
	return strings.HasPrefix(name, "zz_generated") && strings.HasSuffix(name, ".go")
}

func union(a, b map[string]string) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
