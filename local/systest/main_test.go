package systest

import (
	"os"
	"testing"

	"github.com/werun-sam/werun-sam/internal/template"
)

func loadRepoTemplate(t *testing.T) *template.Template {
	t.Helper()
	tmpl, err := template.Load(template.File)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func TestMain(m *testing.M) {
	if id := os.Getenv(initFunctionVar); id != "" {
		initFunction(id) // a child of functionReads
	}
	if err := template.ChdirRoot(); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}
