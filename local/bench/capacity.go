package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/local/recorder"
	"github.com/werun-sam/werun-sam/local/stack"
	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/store/eventstore"
	"github.com/werun-sam/werun-sam/shared/usecases"
	"github.com/werun-sam/werun-sam/shared/wechat"
	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
)

// What a route costs in DynamoDB (the bench's section 4): a DynamoDB
// client that asks for ReturnConsumedCapacity=INDEXES on every request and
// records every request's operation and timing on the wire (package
// recorder), under the use cases and the API handlers (routes.go).

// waves counts sequential round trips: the longest chain of requests each
// of which started after the one before it had ended. Requests that
// overlap are one round trip, however many; a pool that runs more
// requests than it holds is as many round trips as its longest chain
// (31 writes through a pool of 8: 4).
func waves(calls []recorder.Call) int {
	sorted := append([]recorder.Call(nil), calls...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Start.Before(sorted[j].Start) })
	depth := make([]int, len(sorted))
	longest := 0
	for i, c := range sorted {
		depth[i] = 1
		for j := range i {
			if !sorted[j].End.After(c.Start) {
				depth[i] = max(depth[i], depth[j]+1)
			}
		}
		longest = max(longest, depth[i])
	}
	return longest
}

// BilledWCU is the write units of the scenario: dynalite's report, with the
// index writes computed from item sizes when dynalite reports none.
func (c Cost) BilledWCU() float64 {
	gsi := c.ReportedGSI
	if gsi == 0 {
		gsi = c.ComputedGSI
	}
	return math.Max(c.ReportedWCU, c.ComputedWCU) + gsi
}

// benchWorld is a measured service: the use cases over the real store,
// its DynamoDB client recorded by rec, and an in-process simulator.
type benchWorld struct {
	rec   *recorder.Recorder
	plain *dynamodb.Client // unrecorded, to write set-ups and read items back
	svc   *usecases.Set
	cfg   usecases.Config // svc's, for another container's (usecases.New(cfg))
	sim   *wechattest.Server
	table string
}

// newBenchWorld records the DynamoDB client at endpoint; plain reaches
// the same table unrecorded.
func newBenchWorld(endpoint, plain, table string) (*benchWorld, error) {
	rec := recorder.New(http.DefaultTransport.(*http.Transport).Clone())
	client := dynamodb.NewFromConfig(services.ClientConfig(endpoint), func(o *dynamodb.Options) {
		o.HTTPClient = &http.Client{Transport: rec}
	}, rec.AskCapacity)
	st := store.New(client, table)
	const appID = stack.AppID
	secret := stack.RandomKey()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	signer, err := crypto.NewSigner(key)
	if err != nil {
		return nil, err
	}
	sim := wechattest.NewServer(appID, secret)
	wc := wechat.NewClient(sim.URL, appID, secret, nil)
	cfg := usecases.Config{AppID: appID, Store: st, Events: eventstore.New(st.Table()), WeChat: wc, Signer: signer}
	return &benchWorld{rec: rec, plain: services.Client(plain), sim: sim, svc: usecases.New(cfg), cfg: cfg, table: table}, nil
}

// scenario is one measured use of a route: run reports the days it
// changed.
type scenario struct {
	name, route string
	run         func() (int, error)
}

// measure measures each scenario's DynamoDB requests, round trips and
// units on the world's recorder; the unrecorded client reads written items
// back.
func (w *benchWorld) measure(ctx context.Context, scenarios []scenario) ([]Cost, error) {
	var out []Cost
	for _, sc := range scenarios {
		w.rec.Reset()
		changed, err := sc.run()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sc.name, err)
		}
		calls, units := w.rec.Calls(), w.rec.Reported()
		c := Cost{Scenario: sc.name, Route: sc.route, Changed: changed, Requests: map[string]int{}, Waves: waves(calls),
			ReportedRCU: units.Read, ReportedWCU: units.Write, ReportedGSI: units.IndexWrite}
		for _, call := range calls {
			c.Requests[call.Op]++
			if call.Key == nil {
				continue
			}
			c.WriteRequests++
			table, gsi, err := writeUnits(ctx, w.plain, w.table, call)
			if err != nil {
				return nil, err
			}
			c.ComputedWCU += table
			c.ComputedGSI += gsi
		}
		out = append(out, c)
	}
	return out, nil
}

// writeUnits is what DynamoDB bills for one single-item write, from the
// item's size now: one unit per started KB in the table, and as much again
// in ActiveIndex when the item is in it (boardShard set), for the index
// entry's projected size. A delete is billed for the item it removed,
// which is gone: it counts one unit (session keys are far under 1 KB).
func writeUnits(ctx context.Context, db *dynamodb.Client, table string, c recorder.Call) (float64, float64, error) {
	if c.Op == "DeleteItem" {
		return 1, 0, nil
	}
	key := map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: jsonS(c.Key["PK"])},
		"SK": &types.AttributeValueMemberS{Value: jsonS(c.Key["SK"])},
	}
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return 0, 0, err
	}
	units := func(size int) float64 { return math.Ceil(float64(max(size, 1)) / 1024) }
	w := units(itemSize(out.Item))
	var gsi float64
	if _, ok := out.Item["boardShard"]; ok {
		proj := map[string]types.AttributeValue{}
		for _, k := range []string{"boardShard", "PK", "SK", "steps"} {
			if v, ok := out.Item[k]; ok {
				proj[k] = v
			}
		}
		gsi = units(itemSize(proj) + 100) // index entries carry 100 bytes of overhead
	}
	return w, gsi, nil
}

func jsonS(v any) string {
	m, _ := v.(map[string]any)
	s, _ := m["S"].(string)
	return s
}

// itemSize is an item's size as DynamoDB counts it: attribute names plus
// values (strings in UTF-8 bytes, numbers about one byte per two digits
// plus one).
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for k, v := range item {
		n += len(k)
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			n += len(v.Value)
		case *types.AttributeValueMemberN:
			digits := len(strings.TrimLeft(strings.ReplaceAll(strings.TrimPrefix(v.Value, "-"), ".", ""), "0"))
			n += (digits+1)/2 + 1
		case *types.AttributeValueMemberB:
			n += len(v.Value)
		default:
			n++
		}
	}
	return n
}
