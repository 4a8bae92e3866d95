// Package ddb is the DynamoDB plumbing the store packages share: attribute
// codecs, an item's key, errors that never carry item values, and the
// get, Query, page, batch, parallel and conditional-write helpers of one
// table. It knows no item kind: the layout is its callers'.
package ddb

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"
)

// Item is one DynamoDB item, or a key.
type Item = map[string]types.AttributeValue

var (
	// ErrUnavailable: DynamoDB throttled, failed or timed out beyond the
	// retries; the request may be retried later (HTTP 503).
	ErrUnavailable = errors.New("store: unavailable, retry later")
	// ErrInvalidArgument: an empty id, or a cursor this store did not give.
	ErrInvalidArgument = errors.New("store: invalid argument")
)

// Limits of DynamoDB's batch calls.
const (
	BatchGetMax   = 100 // keys per BatchGetItem
	BatchWriteMax = 25  // requests per BatchWriteItem
)

// S, N, Str, Num, Millis and UnixOrZero write and read attribute values;
// a missing or mistyped attribute reads as the zero value.
func S(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// N is a number attribute.
func N(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

// Str reads a string attribute.
func Str(av types.AttributeValue) string {
	if v, ok := av.(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// Num reads a number attribute.
func Num(av types.AttributeValue) int64 {
	if v, ok := av.(*types.AttributeValueMemberN); ok {
		i, _ := strconv.ParseInt(v.Value, 10, 64)
		return i
	}
	return 0
}

// Millis reads a time stored as unix milliseconds.
func Millis(av types.AttributeValue) time.Time {
	if _, ok := av.(*types.AttributeValueMemberN); !ok {
		return time.Time{}
	}
	return time.UnixMilli(Num(av))
}

// UnixOrZero reads a time stored as unix seconds; 0 or none is the zero time.
func UnixOrZero(av types.AttributeValue) time.Time {
	if v := Num(av); v != 0 {
		return time.Unix(v, 0)
	}
	return time.Time{}
}

// Key is the key of the item pk / sk.
func Key(pk, sk string) Item { return Item{"PK": S(pk), "SK": S(sk)} }

// EncodeCursor makes a page's LastEvaluatedKey, whose attributes are all
// strings, an opaque string (base64 JSON) small enough to keep.
func EncodeCursor(key Item) string {
	if len(key) == 0 {
		return ""
	}
	m := make(map[string]string, len(key))
	for k, v := range key {
		m[k] = Str(v)
	}
	b, _ := json.Marshal(m)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads what EncodeCursor made.
func DecodeCursor(op, c string) (Item, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	var m map[string]string
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err != nil {
		return nil, fmt.Errorf("store: %s: malformed cursor: %w", op, ErrInvalidArgument)
	}
	key := make(Item, len(m))
	for k, v := range m {
		key[k] = S(v)
	}
	return key, nil
}

// opError is a failed call: it names the operation and DynamoDB's error
// code, never an item value, and matches ErrUnavailable when a retry later
// may succeed.
type opError struct {
	op          string
	err         error
	unavailable bool
}

func (e *opError) Error() string {
	msg := "store: " + e.op + ": "
	var apiErr smithy.APIError
	switch {
	case errors.Is(e.err, context.DeadlineExceeded):
		msg += "deadline exceeded"
	case errors.Is(e.err, context.Canceled):
		msg += "canceled"
	case errors.As(e.err, &apiErr):
		msg += "DynamoDB " + apiErr.ErrorCode()
	default:
		msg += "request failed"
	}
	if e.unavailable {
		msg += " (unavailable, retry later)"
	}
	return msg
}

func (e *opError) Unwrap() []error {
	if e.unavailable {
		return []error{ErrUnavailable, e.err}
	}
	return []error{e.err}
}

// transient is the SDK's own judgement of a retryable error (throttling,
// 5xx, connection resets), which its retries have already spent.
var transient = retry.IsErrorRetryables(retry.DefaultRetryables)

// Wrap names op in err (nil stays nil) and classes it unavailable when a
// later retry may succeed.
func Wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var maxAttempts *retry.MaxAttemptsError
	unavailable := errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, context.Canceled) ||
		errors.As(err, &maxAttempts) ||
		transient.IsErrorRetryable(err) == aws.TrueTernary
	return &opError{op: op, err: err, unavailable: unavailable}
}

// IsConditionFailed says whether err is a failed ConditionExpression.
func IsConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// Parallel runs the calls at once and returns the first error, wrapped.
func Parallel(ctx context.Context, op string, calls ...func(context.Context) error) error {
	var g errgroup.Group
	for _, call := range calls {
		g.Go(func() error { return call(ctx) })
	}
	return Wrap(op, g.Wait())
}

// Table is one DynamoDB table and its client.
type Table struct {
	DB   *dynamodb.Client
	Name string
}

// Get reads one item (nil when there is none).
func (t Table) Get(ctx context.Context, op string, k Item, consistent bool) (Item, error) {
	out, err := t.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &t.Name, Key: k, ConsistentRead: aws.Bool(consistent)})
	if err != nil {
		return nil, Wrap(op, err)
	}
	return out.Item, nil
}

// PutNew puts item unless an item with its key exists; false when one does.
func (t Table) PutNew(ctx context.Context, op string, item Item) (bool, error) {
	_, err := t.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &t.Name, Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)"),
	})
	if IsConditionFailed(err) {
		return false, nil
	}
	return err == nil, Wrap(op, err)
}

// Put puts item, replacing any.
func (t Table) Put(ctx context.Context, op string, item Item) error {
	_, err := t.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &t.Name, Item: item})
	return Wrap(op, err)
}

// Delete deletes the item k, answering nothing (gone already is no error).
func (t Table) Delete(ctx context.Context, op string, k Item) error {
	_, err := t.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &t.Name, Key: k})
	return Wrap(op, err)
}

// ConditionalUpdate runs an UpdateItem whose ConditionExpression may fail:
// a failed condition is an expected outcome (false), not an error.
func (t Table) ConditionalUpdate(ctx context.Context, op string, in *dynamodb.UpdateItemInput) (bool, error) {
	in.TableName = &t.Name
	_, err := t.DB.UpdateItem(ctx, in)
	if IsConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, Wrap(op, err)
	}
	return true, nil
}

// Query reads every item of pk whose SK begins with prefix.
func (t Table) Query(ctx context.Context, op, pk, prefix string, consistent bool) ([]Item, error) {
	return t.Pages(ctx, op, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :p)"),
		ExpressionAttributeValues: Item{":pk": S(pk), ":p": S(prefix)},
		ConsistentRead:            aws.Bool(consistent),
	})
}

// QueryAll reads every item of pk, strongly consistent, with a projection
// (so never a secret the projection leaves out).
func (t Table) QueryAll(ctx context.Context, op, pk, projection string, names map[string]string) ([]Item, error) {
	return t.Pages(ctx, op, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: Item{":pk": S(pk)},
		ProjectionExpression:      aws.String(projection),
		ExpressionAttributeNames:  names,
		ConsistentRead:            aws.Bool(true),
	})
}

// Pages runs a Query on the table to its last page and returns every item.
func (t Table) Pages(ctx context.Context, op string, in *dynamodb.QueryInput) ([]Item, error) {
	in.TableName = &t.Name
	var items []Item
	for {
		out, err := t.DB.Query(ctx, in)
		if err != nil {
			return nil, Wrap(op, err)
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			return items, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// BatchGet reads any number of keys, BatchGetMax a call, the calls at
// once, asking again for unprocessed keys; projection "" reads every
// attribute (only for items that hold no secret).
func (t Table) BatchGet(ctx context.Context, op string, keys []Item, projection string) ([]Item, error) {
	var (
		mu    sync.Mutex
		items []Item
		calls []func(context.Context) error
	)
	for start := 0; start < len(keys); start += BatchGetMax {
		chunk := keys[start:min(start+BatchGetMax, len(keys))]
		calls = append(calls, func(ctx context.Context) error {
			got, err := t.batchGet(ctx, chunk, projection)
			mu.Lock()
			items = append(items, got...)
			mu.Unlock()
			return err
		})
	}
	return items, Parallel(ctx, op, calls...)
}

func (t Table) batchGet(ctx context.Context, keys []Item, projection string) ([]Item, error) {
	var items []Item
	ka := types.KeysAndAttributes{Keys: keys}
	if projection != "" {
		ka.ProjectionExpression = aws.String(projection)
	}
	req := map[string]types.KeysAndAttributes{t.Name: ka}
	for len(req) > 0 {
		out, err := t.DB.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, err
		}
		items = append(items, out.Responses[t.Name]...)
		if req = out.UnprocessedKeys; len(req) > 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return items, nil
}

// DeleteAll deletes every key, BatchWriteMax a call, the calls at once,
// asking again for unprocessed ones. Deleting an item already gone is not
// an error, so a DeleteAll may be repeated.
func (t Table) DeleteAll(ctx context.Context, op string, keys []Item) error {
	keys = distinct(keys) // a batch naming a key twice is refused whole
	var calls []func(context.Context) error
	for start := 0; start < len(keys); start += BatchWriteMax {
		chunk := keys[start:min(start+BatchWriteMax, len(keys))]
		calls = append(calls, func(ctx context.Context) error {
			reqs := make([]types.WriteRequest, len(chunk))
			for i, k := range chunk {
				reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}}
			}
			pending := map[string][]types.WriteRequest{t.Name: reqs}
			for len(pending) > 0 {
				out, err := t.DB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
				if err != nil {
					return err
				}
				if pending = out.UnprocessedItems; len(pending) > 0 {
					if err := ctx.Err(); err != nil {
						return err
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			return nil
		})
	}
	return Parallel(ctx, op, calls...)
}

// distinct is keys without repeats, in their order.
func distinct(keys []Item) []Item {
	seen := make(map[[2]string]bool, len(keys))
	out := make([]Item, 0, len(keys))
	for _, k := range keys {
		if id := [2]string{Str(k["PK"]), Str(k["SK"])}; !seen[id] {
			seen[id] = true
			out = append(out, k)
		}
	}
	return out
}
