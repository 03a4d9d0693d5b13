package check

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"gatewarden.dev/gatewarden/pkg/config"
)

var updateGolden = os.Getenv("UPDATE_GOLDEN") == "1"

// TestFixtureFolders checks each testdata/<case> folder as `webhook check -f <folder>`
// would, comparing the text, JSON and SARIF outputs and the exit code with the golden files
// in testdata/<case>.golden/ (UPDATE_GOLDEN=1 rewrites them). A folder whose input does not
// parse has the error message as its golden output and exit code 2.
func TestFixtureFolders(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*")
	if err != nil {
		t.Fatal(err)
	}
	var cases []string
	for _, d := range dirs {
		if !strings.HasSuffix(d, ".golden") {
			cases = append(cases, d)
		}
	}
	if len(cases) == 0 {
		t.Fatal("no fixture folders")
	}
	for _, dir := range cases {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			golden := dir + ".golden"
			outputs := map[string]string{}
			code := ExitError
			sources, err := ReadSources([]string{dir}, nil)
			if err != nil {
				outputs["error.txt"] = err.Error() + "\n"
			} else {
				res, err := Run(context.Background(), sources, nil, config.Default())
				if err != nil {
					t.Fatal(err)
				}
				code = res.ExitCode()
				for name, write := range map[string]func(*bytes.Buffer) error{
					"output.txt":   func(b *bytes.Buffer) error { return WriteText(b, res) },
					"output.json":  func(b *bytes.Buffer) error { return WriteJSON(b, res) },
					"output.sarif": func(b *bytes.Buffer) error { return WriteSARIF(b, res) },
				} {
					var b bytes.Buffer
					if err := write(&b); err != nil {
						t.Fatal(err)
					}
					outputs[name] = b.String()
				}
			}
			outputs["exitcode"] = strconv.Itoa(code) + "\n"
			for name, got := range outputs {
				path := filepath.Join(golden, name)
				if updateGolden {
					if err := os.MkdirAll(golden, 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (UPDATE_GOLDEN=1 creates it)", err)
				}
				if diff := cmp.Diff(string(want), got); diff != "" {
					t.Errorf("%s (-want +got):\n%s", path, diff)
				}
			}
		})
	}
}
