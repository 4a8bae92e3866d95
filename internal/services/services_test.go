package services

import (
	"context"
	"io"
	"slices"
	"testing"

	"github.com/werun-sam/werun-sam/internal/template"
)

func TestTableInputComesFromTheTemplate(t *testing.T) {
	tmpl, err := template.LoadRepo()
	if err != nil {
		t.Fatal(err)
	}
	in, err := TableInput(tmpl, "t")
	if err != nil {
		t.Fatal(err)
	}
	if len(in.KeySchema) != 2 || *in.KeySchema[0].AttributeName != "PK" || *in.KeySchema[1].AttributeName != "SK" {
		t.Errorf("KeySchema %+v, want PK HASH, SK RANGE", in.KeySchema)
	}
	var names []string
	for _, gsi := range in.GlobalSecondaryIndexes {
		names = append(names, *gsi.IndexName)
		if len(gsi.KeySchema) == 0 || gsi.Projection.ProjectionType == "" {
			t.Errorf("index %s has no keys or no projection", *gsi.IndexName)
		}
	}
	if !slices.Equal(names, []string{"ActiveIndex", "OpenIDIndex"}) {
		t.Errorf("GSIs %v, want ActiveIndex and OpenIDIndex", names)
	}
	if in.BillingMode != "PAY_PER_REQUEST" {
		t.Errorf("BillingMode %q", in.BillingMode)
	}
}

func TestForTestsGivesTheTemplateTable(t *testing.T) {
	env := ForTests(t, Need{DynamoDB: true})
	if env.DynamoDB == "" || env.Table == "" {
		t.Fatalf("env %+v, want an endpoint and a table", env)
	}
	if !TableAt(context.Background(), env.DynamoDB, env.Table) {
		t.Errorf("no table %s at %s", env.Table, env.DynamoDB)
	}
	if again := ForTests(t, Need{DynamoDB: true}); again != env {
		t.Errorf("a second call gave %+v, want the same services %+v", again, env)
	}
}

// BenchmarkStart is what a test binary pays for services of its own (with
// stopping them): `go test -run '^$' -bench Start ./internal/services`.
func BenchmarkStart(b *testing.B) {
	for _, c := range []struct {
		name string
		need Need
	}{{"dynalite and the table", Need{DynamoDB: true}}, {"moto", Need{SSM: true}}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				ps := &Procs{}
				_, err := Start(context.Background(), ps, io.Discard, c.need)
				ps.StopAll()
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
