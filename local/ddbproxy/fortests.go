package ddbproxy

import (
	"testing"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/internal/template"
)

// ForTests starts a proxy for one test in front of the test services'
// DynamoDB (services.ForTests), with the template table's keys, on a free
// loopback port; it is closed when the test ends. Give p.URL to what the
// test runs (AWS_ENDPOINT_URL_DYNAMODB); look at the table through the
// services' endpoint, past the rules.
func ForTests(t testing.TB) *Proxy {
	t.Helper()
	env := services.ForTests(t, services.Need{DynamoDB: true})
	tmpl, err := template.LoadRepo()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := KeysOf(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Start("127.0.0.1:0", env.DynamoDB, keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}
