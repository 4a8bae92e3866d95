package ddbproxy_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/local/ddbproxy"
)

// BenchmarkOverhead is what the proxy adds to a call of the functions'
// client against dynalite: `go test -run '^$' -bench Overhead
// ./local/ddbproxy` (docs/DESIGN.md, Local stack). The direct and proxied
// calls alternate, so a busy machine slows both alike; the medians are
// reported, with and without a rule (with one, bodies are read first).
func BenchmarkOverhead(b *testing.B) {
	env := services.ForTests(b, services.Need{DynamoDB: true})
	pk := unique("USER#")
	for _, rule := range []bool{false, true} {
		for _, op := range []struct {
			name string
			call call
		}{{"PutItem", put(pk)}, {"GetItem", get(pk)}} {
			name := op.name
			if rule {
				name += "/with a rule"
			}
			b.Run(name, func(b *testing.B) {
				p := ddbproxy.ForTests(b)
				if rule {
					if _, err := p.Add(ddbproxy.Rule{Op: "DescribeLimits", Action: ddbproxy.Fail}); err != nil {
						b.Fatal(err)
					}
				}
				direct, proxied := functionsClient(env.DynamoDB, 1), functionsClient(p.URL, 1)
				var d, v []time.Duration
				for b.Loop() {
					for _, c := range []struct {
						db  *dynamodb.Client
						out *[]time.Duration
					}{{direct, &d}, {proxied, &v}} {
						start := time.Now()
						if _, err := op.call(context.Background(), c.db, services.TableName); err != nil {
							b.Fatal(err)
						}
						*c.out = append(*c.out, time.Since(start))
					}
				}
				md, mv := median(d), median(v)
				b.ReportMetric(float64(md.Microseconds()), "direct-µs")
				b.ReportMetric(float64(mv.Microseconds()), "proxy-µs")
				b.ReportMetric(float64((mv - md).Microseconds()), "added-µs")
			})
		}
	}
}

func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}
