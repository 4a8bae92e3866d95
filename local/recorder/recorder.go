// Package recorder records the DynamoDB requests a client sends, as the wire
// sees them: each request's operation, index, item key and timing, and the
// capacity units the answers report. The bench prices a sync with it and
// the IAM test learns each function's actions from it.
package recorder

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// Call is one DynamoDB request as the wire saw it.
type Call struct {
	Op         string // from X-Amz-Target, e.g. "Query"
	Index      string // the IndexName a Query or Scan names, "" for the table
	Start, End time.Time
	Key        map[string]any // the item key of a single-item write
}

// Units are the capacity units the answers reported: reads (table and
// indexes), table writes and index writes.
type Units struct {
	Read, Write, IndexWrite float64
}

// Recorder is both the HTTP transport of a DynamoDB client and, with
// AskCapacity among its options, the sink of the capacity its answers
// report.
type Recorder struct {
	next http.RoundTripper

	mu    sync.Mutex
	calls []Call
	units Units
}

// New records the DynamoDB requests sent through next.
func New(next http.RoundTripper) *Recorder { return &Recorder{next: next} }

// Calls is every request recorded since the last Reset.
func (r *Recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// Reported is the capacity reported since the last Reset.
func (r *Recorder) Reported() Units {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.units
}

// Reset starts a new measurement.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls, r.units = nil, Units{}
}

// RoundTrip records the request and sends it on.
func (r *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	c := Call{Op: strings.TrimPrefix(req.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")}
	if req.Body != nil {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		var in struct {
			IndexName string
			Key, Item map[string]any
		}
		_ = json.Unmarshal(body, &in)
		c.Index = in.IndexName
		switch c.Op {
		case "UpdateItem", "DeleteItem":
			c.Key = in.Key
		case "PutItem":
			c.Key = map[string]any{"PK": in.Item["PK"], "SK": in.Item["SK"]}
		}
	}
	c.Start = time.Now()
	resp, err := r.next.RoundTrip(req)
	if err == nil {
		// The round trip ends when the answer has been read.
		body, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		err = rerr
	}
	c.End = time.Now()
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
	return resp, err
}

// AskCapacity, as an option of dynamodb.NewFromConfig, adds
// ReturnConsumedCapacity=INDEXES to every request that takes it and adds up
// what the answers report (Reported).
func (r *Recorder) AskCapacity(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("RecordConsumedCapacity",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if f := field(in.Parameters, "ReturnConsumedCapacity"); f.CanSet() {
					f.Set(reflect.ValueOf(types.ReturnConsumedCapacityIndexes))
				}
				write := true
				switch in.Parameters.(type) {
				case *dynamodb.QueryInput, *dynamodb.GetItemInput, *dynamodb.BatchGetItemInput:
					write = false
				}
				out, md, err := next.HandleInitialize(ctx, in)
				var cc []types.ConsumedCapacity
				if c := field(out.Result, "ConsumedCapacity"); c.IsValid() {
					switch v := c.Interface().(type) {
					case *types.ConsumedCapacity:
						cc = []types.ConsumedCapacity{deref(v)}
					case []types.ConsumedCapacity:
						cc = v
					}
				}
				r.mu.Lock()
				for _, c := range cc {
					table := aws.ToFloat64(c.CapacityUnits)
					var gsi float64
					for _, g := range c.GlobalSecondaryIndexes {
						gsi += aws.ToFloat64(g.CapacityUnits)
					}
					if c.Table != nil {
						table = aws.ToFloat64(c.Table.CapacityUnits)
					}
					if write {
						r.units.Write += table
						r.units.IndexWrite += gsi
					} else {
						r.units.Read += table + gsi
					}
				}
				r.mu.Unlock()
				return out, md, err
			}), middleware.After)
	})
}

// field is the named field of the struct v points to, or the zero Value
// (not IsValid, not CanSet) when there is none.
func field(v any, name string) reflect.Value {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return reflect.ValueOf(nil)
	}
	return rv.Elem().FieldByName(name)
}

func deref(c *types.ConsumedCapacity) types.ConsumedCapacity {
	if c == nil {
		return types.ConsumedCapacity{}
	}
	return *c
}
