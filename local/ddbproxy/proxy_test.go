package ddbproxy_test

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/local/ddbproxy"
	"github.com/werun-sam/werun-sam/shared/config"
)

// functionsClient is a DynamoDB client built as the functions build theirs
// (shared/config: the bounded standard retryer, a timeout per try), with
// at most attempts tries per call, pointed at url.
func functionsClient(url string, attempts int) *dynamodb.Client {
	cfg := services.ClientConfig(url)
	cfg.Retryer = config.NewRetryer
	cfg.HTTPClient = awshttp.NewBuildableClient().WithTimeout(config.AttemptTimeout)
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.RetryMaxAttempts = attempts })
}

// table is the test table, read past the proxy.
func table(t *testing.T) (*dynamodb.Client, string) {
	env := services.ForTests(t, services.Need{DynamoDB: true})
	return services.Client(env.DynamoDB), env.Table
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func key(pk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"PK": s(pk), "SK": s("ITEM")}
}

// unique makes keys of this run (the table is shared by the package's tests).
func unique(prefix string) string { return prefix + rand.Text()[:10] }

// landed says whether the item pk is in the table.
func landed(t *testing.T, pk string) bool {
	t.Helper()
	db, name := table(t)
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(name), Key: key(pk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item != nil
}

// call is one SDK call through the proxy; it returns how many tries the
// SDK made when it succeeded.
type call func(ctx context.Context, db *dynamodb.Client, tbl string) (middleware.Metadata, error)

func put(pk string) call {
	return func(ctx context.Context, db *dynamodb.Client, tbl string) (middleware.Metadata, error) {
		out, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tbl), Item: key(pk)})
		if err != nil {
			return middleware.Metadata{}, err
		}
		return out.ResultMetadata, nil
	}
}

func update(pk string) call {
	return func(ctx context.Context, db *dynamodb.Client, tbl string) (middleware.Metadata, error) {
		out, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(tbl), Key: key(pk),
			UpdateExpression: aws.String("SET n = :n"), ExpressionAttributeValues: map[string]types.AttributeValue{":n": s("1")}})
		if err != nil {
			return middleware.Metadata{}, err
		}
		return out.ResultMetadata, nil
	}
}

func get(pk string) call {
	return func(ctx context.Context, db *dynamodb.Client, tbl string) (middleware.Metadata, error) {
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tbl), Key: key(pk)})
		if err != nil {
			return middleware.Metadata{}, err
		}
		return out.ResultMetadata, nil
	}
}

// query reads partition pk's items whose sort key begins with sk.
func query(pk, sk string) call {
	return func(ctx context.Context, db *dynamodb.Client, tbl string) (middleware.Metadata, error) {
		out, err := db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(tbl),
			KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :sk)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(pk), ":sk": s(sk)}})
		if err != nil {
			return middleware.Metadata{}, err
		}
		return out.ResultMetadata, nil
	}
}

func batchPut(pks ...string) call {
	return func(ctx context.Context, db *dynamodb.Client, tbl string) (middleware.Metadata, error) {
		var ws []types.WriteRequest
		for _, pk := range pks {
			ws = append(ws, types.WriteRequest{PutRequest: &types.PutRequest{Item: key(pk)}})
		}
		out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{tbl: ws}})
		if err != nil {
			return middleware.Metadata{}, err
		}
		return out.ResultMetadata, nil
	}
}

// errorCode is DynamoDB's error code of err ("" for nil).
func errorCode(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var api smithy.APIError
	if !errors.As(err, &api) {
		t.Fatalf("not an API error: %v", err)
	}
	return api.ErrorCode()
}

func TestRulesMatchCountAndAct(t *testing.T) {
	group, user := unique("GROUP#"), unique("USER#")
	type step struct {
		call         call
		wantCode     string // "" for success
		wantAttempts int    // with success: the SDK's tries
	}
	tests := []struct {
		name     string
		rule     ddbproxy.Rule
		attempts int // the client's tries per call
		steps    []step
		want     ddbproxy.Stats
		landed   []string // items in the table afterwards
		absent   []string
	}{
		{
			name: "a fail with count 3 fails three tries; the functions' retryer lands the fourth",
			rule: ddbproxy.Rule{Op: "PutItem", Action: ddbproxy.Fail, Count: 3}, attempts: config.MaxAttempts,
			steps: []step{{put(group + "a"), "", 4}},
			want:  ddbproxy.Stats{Seen: 4, Acted: 3}, landed: []string{group + "a"},
		},
		{
			name: "a fail with count 5 outlasts the functions' 5 tries: InternalServerError",
			rule: ddbproxy.Rule{Op: "PutItem", Action: ddbproxy.Fail, Count: config.MaxAttempts}, attempts: config.MaxAttempts,
			steps: []step{{put(group + "b"), "InternalServerError", 0}},
			want:  ddbproxy.Stats{Seen: 5, Acted: 5}, absent: []string{group + "b"},
		},
		{
			name: "a throttle once is retried",
			rule: ddbproxy.Rule{Action: ddbproxy.Throttle, Count: 1}, attempts: config.MaxAttempts,
			steps: []step{{put(group + "c"), "", 2}},
			want:  ddbproxy.Stats{Seen: 2, Acted: 1}, landed: []string{group + "c"},
		},
		{
			name: "a throttle answers ProvisionedThroughputExceededException by default",
			rule: ddbproxy.Rule{Action: ddbproxy.Throttle, Count: 1}, attempts: 1,
			steps: []step{{put(group + "d"), "ProvisionedThroughputExceededException", 0}, {put(group + "d"), "", 1}},
			want:  ddbproxy.Stats{Seen: 2, Acted: 1}, landed: []string{group + "d"},
		},
		{
			name: "a throttle with code ThrottlingException",
			rule: ddbproxy.Rule{Action: ddbproxy.Throttle, Code: ddbproxy.CodeThrottling}, attempts: 1,
			steps: []step{{get(group + "e"), "ThrottlingException", 0}, {get(group + "e"), "ThrottlingException", 0}},
			want:  ddbproxy.Stats{Seen: 2, Acted: 2},
		},
		{
			name: "skip 2 lets two matching requests through, then fails the third, count 1 no more",
			rule: ddbproxy.Rule{Op: "PutItem", Action: ddbproxy.Fail, Skip: 2, Count: 1}, attempts: 1,
			steps: []step{
				{put(group + "f1"), "", 1}, {get(group + "f1"), "", 1}, {put(group + "f2"), "", 1},
				{put(group + "f3"), "InternalServerError", 0}, {put(group + "f4"), "", 1},
			},
			want: ddbproxy.Stats{Seen: 4, Acted: 1}, landed: []string{group + "f1", group + "f2", group + "f4"}, absent: []string{group + "f3"},
		},
		{
			name: "a key prefix matches partition keys of puts, reads, queries and batches, not sort keys",
			rule: ddbproxy.Rule{KeyPrefix: "GROUP#", Action: ddbproxy.Fail}, attempts: 1,
			steps: []step{
				{put(user + "g"), "", 1},
				{put(group + "g"), "InternalServerError", 0},
				{get(group + "g"), "InternalServerError", 0},
				{query(group+"g", "ITEM"), "InternalServerError", 0},
				{query(user+"g", "GROUP#"), "", 1},
				{batchPut(user+"h", group+"h"), "InternalServerError", 0},
				{batchPut(user + "h"), "", 1},
			},
			want: ddbproxy.Stats{Seen: 4, Acted: 4}, landed: []string{user + "g", user + "h"}, absent: []string{group + "g", group + "h"},
		},
		{
			name: "an op matches only that operation",
			rule: ddbproxy.Rule{Op: "UpdateItem", Action: ddbproxy.Fail}, attempts: 1,
			steps: []step{{put(user + "i"), "", 1}, {update(user + "i"), "InternalServerError", 0}, {get(user + "i"), "", 1}},
			want:  ddbproxy.Stats{Seen: 1, Acted: 1}, landed: []string{user + "i"},
		},
		{
			name: "a drop once cuts the connection; the SDK retries and lands the write",
			rule: ddbproxy.Rule{Op: "PutItem", Action: ddbproxy.Drop, Count: 1}, attempts: config.MaxAttempts,
			steps: []step{{put(group + "j"), "", 2}},
			want:  ddbproxy.Stats{Seen: 2, Acted: 1}, landed: []string{group + "j"},
		},
		{
			name: "a late forward after a hold lands while the client waits",
			rule: ddbproxy.Rule{Op: "PutItem", Action: ddbproxy.Late, Hold: 50 * time.Millisecond, Count: 1}, attempts: 1,
			steps: []step{{put(group + "k"), "", 1}},
			want:  ddbproxy.Stats{Seen: 1, Acted: 1}, landed: []string{group + "k"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := ddbproxy.ForTests(t)
			h, err := p.Add(tt.rule)
			if err != nil {
				t.Fatal(err)
			}
			db, tbl := functionsClient(p.URL, tt.attempts), services.TableName
			for i, st := range tt.steps {
				meta, err := st.call(context.Background(), db, tbl)
				if code := errorCode(t, err); code != st.wantCode {
					t.Fatalf("call %d: error %q (%v), want %q", i+1, code, err, st.wantCode)
				}
				if err != nil {
					continue
				}
				if r, _ := retry.GetAttemptResults(meta); len(r.Results) != st.wantAttempts {
					t.Errorf("call %d: %d tries, want %d", i+1, len(r.Results), st.wantAttempts)
				}
			}
			if got := h.Stats(); got != tt.want {
				t.Errorf("rule stats %+v, want %+v", got, tt.want)
			}
			for _, pk := range tt.landed {
				if !landed(t, pk) {
					t.Errorf("%s is not in the table", pk)
				}
			}
			for _, pk := range tt.absent {
				if landed(t, pk) {
					t.Errorf("%s is in the table", pk)
				}
			}
		})
	}
}

// TestAHeldPutReleasedAfterTheClientsDeadline shows both fates of a write
// whose client gave up: forwarded late, it lands; dropped, it never does.
func TestAHeldPutReleasedAfterTheClientsDeadline(t *testing.T) {
	tests := []struct {
		action      ddbproxy.Action
		wantOutcome string
		wantLanded  bool
	}{
		{ddbproxy.Late, "forwarded late: 200", true},
		{ddbproxy.Drop, "dropped", false},
	}
	for _, tt := range tests {
		t.Run(string(tt.action), func(t *testing.T) {
			t.Parallel()
			p := ddbproxy.ForTests(t)
			pk := unique("GROUP#")
			h, err := p.Add(ddbproxy.Rule{Op: "PutItem", KeyPrefix: "GROUP#", Action: tt.action, Hold: ddbproxy.UntilReleased, Count: 1})
			if err != nil {
				t.Fatal(err)
			}
			// The functions' retryer: a call whose deadline passes is not retried.
			db := functionsClient(p.URL, config.MaxAttempts)
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			putErr := make(chan error, 1)
			go func() { _, err := put(pk)(ctx, db, services.TableName); putErr <- err }()

			wait, stop := context.WithTimeout(context.Background(), 30*time.Second)
			defer stop()
			req, err := h.Wait(wait)
			if err != nil {
				t.Fatalf("the put never reached the proxy: %v", err)
			}
			if req.Op != "PutItem" || !slices.Equal(req.Keys, []string{pk}) || req.Outcome() != "held" {
				t.Errorf("held %s %v %q, want PutItem [%s] held", req.Op, req.Keys, req.Outcome(), pk)
			}
			if err := <-putErr; !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("the client's put: %v, want its deadline exceeded", err)
			}
			if landed(t, pk) {
				t.Fatal("the held put landed before its release")
			}
			req.Release()
			select {
			case <-req.Done():
			case <-wait.Done():
				t.Fatal("the released request never finished")
			}
			if got := req.Outcome(); got != tt.wantOutcome {
				t.Errorf("outcome %q, want %q", got, tt.wantOutcome)
			}
			if got := landed(t, pk); got != tt.wantLanded {
				t.Errorf("landed %v after the release, want %v", got, tt.wantLanded)
			}
			if st := h.Stats(); st != (ddbproxy.Stats{Seen: 1, Acted: 1}) {
				t.Errorf("rule stats %+v, want one seen and acted on, none held", st)
			}
		})
	}
}

func TestResetAndRemoveReleaseWhatIsHeld(t *testing.T) {
	for _, end := range []struct {
		name string
		end  func(p *ddbproxy.Proxy, h *ddbproxy.Handle)
	}{
		{"reset", func(p *ddbproxy.Proxy, _ *ddbproxy.Handle) { p.Reset() }},
		{"remove", func(_ *ddbproxy.Proxy, h *ddbproxy.Handle) { h.Remove() }},
		{"handle release", func(_ *ddbproxy.Proxy, h *ddbproxy.Handle) { h.Release() }},
	} {
		t.Run(end.name, func(t *testing.T) {
			t.Parallel()
			p := ddbproxy.ForTests(t)
			h, err := p.Add(ddbproxy.Rule{Op: "PutItem", Action: ddbproxy.Late, Hold: ddbproxy.UntilReleased})
			if err != nil {
				t.Fatal(err)
			}
			pk := unique("USER#")
			putErr := make(chan error, 1)
			go func() {
				_, err := put(pk)(context.Background(), functionsClient(p.URL, 1), services.TableName)
				putErr <- err
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := h.Wait(ctx); err != nil {
				t.Fatal(err)
			}
			end.end(p, h)
			if err := <-putErr; err != nil {
				t.Fatalf("the released put: %v", err)
			}
			if !landed(t, pk) {
				t.Errorf("%s is not in the table", pk)
			}
		})
	}
}

func TestRulesAreChecked(t *testing.T) {
	p := ddbproxy.ForTests(t)
	for _, tt := range []struct {
		rule  ddbproxy.Rule
		field string
	}{
		{ddbproxy.Rule{Action: "explode"}, "action"},
		{ddbproxy.Rule{Action: ddbproxy.Late}, "hold"},
		{ddbproxy.Rule{Action: ddbproxy.Fail, Hold: time.Second}, "hold"},
		{ddbproxy.Rule{Action: ddbproxy.Fail, Code: ddbproxy.CodeThrottling}, "code"},
		{ddbproxy.Rule{Action: ddbproxy.Throttle, Code: "SlowDown"}, "code"},
		{ddbproxy.Rule{Action: ddbproxy.Fail, Count: -1}, "count"},
		{ddbproxy.Rule{Action: ddbproxy.Fail, Skip: -1}, "skip"},
	} {
		_, err := p.Add(tt.rule)
		var re *ddbproxy.RuleError
		if !errors.As(err, &re) || re.Field != tt.field {
			t.Errorf("%+v: %v, want a RuleError about %s", tt.rule, err, tt.field)
		}
	}
}
