package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/local/recorder"
	"github.com/werun-sam/werun-sam/local/stack"
	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/session"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/store/eventstore"
	"github.com/werun-sam/werun-sam/shared/usecases"
	"github.com/werun-sam/werun-sam/shared/usersteps"
	"github.com/werun-sam/werun-sam/shared/wechat"
	"github.com/werun-sam/werun-sam/shared/wechat/wechattest"
)

// The DynamoDB cost of one sync (the bench's section 4): the use cases over
// the real DynamoStore and dynalite, the WeChat simulator in-process, and a
// DynamoDB client that asks for ReturnConsumedCapacity=INDEXES on every
// request and records every request's operation and timing on the wire
// (package recorder).

// waves counts sequential round trips: a request that starts after every
// request of the current wave has ended begins the next wave.
func waves(calls []recorder.Call) int {
	sorted := append([]recorder.Call(nil), calls...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Start.Before(sorted[j].Start) })
	n := 0
	var end time.Time
	for _, c := range sorted {
		if n == 0 || !c.Start.Before(end) {
			n++
			end = c.End
		} else if c.End.After(end) {
			end = c.End
		}
	}
	return n
}

// SyncCost is one scenario's DynamoDB bill.
type SyncCost struct {
	Scenario      string
	Changed       int
	Requests      map[string]int
	Waves         int
	ReportedRCU   float64 // as dynalite reports (table and indexes)
	ReportedWCU   float64 // table writes as dynalite reports
	ReportedGSI   float64 // index writes as dynalite reports
	ComputedWCU   float64 // from the written items' sizes: table
	ComputedGSI   float64 // from the written items' sizes: ActiveIndex
	WriteRequests int
}

// BilledWCU is the write units of the scenario: dynalite's report, with the
// index writes computed from item sizes when dynalite reports none.
func (c SyncCost) BilledWCU() float64 {
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
	st    *store.DynamoStore
	sim   *wechattest.Server
	svc   *usecases.Set
	table string
}

func newBenchWorld(endpoint, table string) (*benchWorld, error) {
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
	svc := usecases.New(usecases.Config{AppID: appID, Store: st, Events: eventstore.New(st.Table()), WeChat: wc, Signer: signer})
	return &benchWorld{rec: rec, plain: services.Client(endpoint), st: st, sim: sim, svc: svc, table: table}, nil
}

// measureSyncCost runs the scenarios against the table at endpoint.
func measureSyncCost(ctx context.Context, endpoint, table string) ([]SyncCost, error) {
	w, err := newBenchWorld(endpoint, table)
	if err != nil {
		return nil, err
	}
	defer w.sim.Close()
	sim, svc := w.sim, w.svc

	openid := "bench-" + stack.RandomKey()[:12]
	now := time.Now()
	list := wechattest.Days(31, now)
	sync := func(list []wechattest.StepInfo) (int, error) {
		ed, iv := sim.WeRunData(openid, list, time.Now())
		res, err := svc.Steps.SyncEncrypted(ctx, usersteps.EncryptedSync{Caller: session.Caller{OpenID: openid, Account: "a1"}, EncryptedData: ed, IV: iv})
		return res.Changed, err
	}
	todayChanged := append([]wechattest.StepInfo(nil), list...)
	todayChanged[len(todayChanged)-1].Step += 500

	return w.measure(ctx, []scenario{
		{"login (POST /v1/session)", func() (int, error) {
			_, err := svc.Sessions.Login(ctx, sim.Login(openid))
			return 0, err
		}},
		{"first sync, 31 days", func() (int, error) { return sync(list) }},
		{"repeat sync, only today changed", func() (int, error) { return sync(todayChanged) }},
		{"resend of unchanged data", func() (int, error) { return sync(todayChanged) }},
	})
}

// scenario is one measured use: run reports the days it changed.
type scenario struct {
	name string
	run  func() (int, error)
}

// measure measures each scenario's DynamoDB requests, round trips and
// units on the world's recorder; the unrecorded client reads written items
// back.
func (w *benchWorld) measure(ctx context.Context, scenarios []scenario) ([]SyncCost, error) {
	var out []SyncCost
	for _, sc := range scenarios {
		w.rec.Reset()
		changed, err := sc.run()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sc.name, err)
		}
		calls, units := w.rec.Calls(), w.rec.Reported()
		c := SyncCost{Scenario: sc.name, Changed: changed, Requests: map[string]int{}, Waves: waves(calls),
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
