package ddbproxy

import (
	"encoding/json"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/internal/template"
)

// Keys names the partition-key attributes a rule's KeyPrefix is matched
// against: the table's, and each index's for a Query on that index.
type Keys struct {
	Table   string            // e.g. "PK"
	Indexes map[string]string // index name -> its partition-key attribute
}

// KeysOf reads Keys from the template's table (its `Table` resource).
func KeysOf(t *template.Template) (Keys, error) {
	in, err := services.TableInput(t, services.TableName)
	if err != nil {
		return Keys{}, err
	}
	hash := func(ks []types.KeySchemaElement) string {
		for _, k := range ks {
			if k.KeyType == types.KeyTypeHash && k.AttributeName != nil {
				return *k.AttributeName
			}
		}
		return ""
	}
	k := Keys{Table: hash(in.KeySchema), Indexes: map[string]string{}}
	for _, g := range in.GlobalSecondaryIndexes {
		if g.IndexName != nil {
			k.Indexes[*g.IndexName] = hash(g.KeySchema)
		}
	}
	for _, l := range in.LocalSecondaryIndexes {
		if l.IndexName != nil {
			k.Indexes[*l.IndexName] = hash(l.KeySchema)
		}
	}
	return k, nil
}

// attr is an attribute value on the wire; a partition key is a string or
// a number.
type attr struct {
	S *string `json:"S"`
	N *string `json:"N"`
}

type item map[string]attr

type writeRequest struct {
	PutRequest    *struct{ Item item }
	DeleteRequest *struct{ Key item }
}

type transactItem struct {
	Get, Put, Update, Delete, ConditionCheck *struct{ Key, Item item }
}

// request is the part of a DynamoDB JSON-protocol body that holds keys.
type request struct {
	IndexName                 string
	Key, Item                 item
	KeyConditionExpression    string
	ExpressionAttributeNames  map[string]string
	ExpressionAttributeValues item
	RequestItems              map[string]json.RawMessage
	TransactItems             []transactItem
}

// equality finds "a = b" in a key condition: an operand touching "=" on
// both sides, so "<=", ">=" and "<>" never match.
var equality = regexp.MustCompile(`([#:\w]+)\s*=\s*([#:\w]+)`)

// partitionKeys lists the partition-key values a request of op names, in
// the order they appear; nil when its body names none (Scan, a body that
// is not JSON, the legacy KeyConditions):
//   - GetItem, DeleteItem, UpdateItem: Key;
//   - PutItem: Item;
//   - Query: the value the KeyConditionExpression sets the partition key
//     equal to (the index's partition key with IndexName);
//   - BatchWriteItem: each PutRequest's Item and DeleteRequest's Key;
//   - BatchGetItem: every Keys entry;
//   - TransactWriteItems, TransactGetItems: each Put's Item and each Get,
//     Update, Delete and ConditionCheck's Key.
//
// Keys.Table is the partition key of every table a request names (the
// stack has one).
func (k Keys) partitionKeys(op string, body []byte) []string {
	var r request
	if json.Unmarshal(body, &r) != nil {
		return nil
	}
	var out []string
	add := func(it item) {
		if v, ok := it[k.Table].value(); ok {
			out = append(out, v)
		}
	}
	switch op {
	case "GetItem", "DeleteItem", "UpdateItem":
		add(r.Key)
	case "PutItem":
		add(r.Item)
	case "Query":
		pk := k.Table
		if r.IndexName != "" {
			pk = k.Indexes[r.IndexName]
		}
		out = queryKeys(r, pk)
	case "BatchWriteItem":
		for _, raw := range r.RequestItems {
			var ws []writeRequest
			_ = json.Unmarshal(raw, &ws)
			for _, w := range ws {
				if w.PutRequest != nil {
					add(w.PutRequest.Item)
				}
				if w.DeleteRequest != nil {
					add(w.DeleteRequest.Key)
				}
			}
		}
	case "BatchGetItem":
		for _, raw := range r.RequestItems {
			var g struct{ Keys []item }
			_ = json.Unmarshal(raw, &g)
			for _, key := range g.Keys {
				add(key)
			}
		}
	case "TransactWriteItems", "TransactGetItems":
		for _, t := range r.TransactItems {
			for _, part := range []*struct{ Key, Item item }{t.Get, t.Put, t.Update, t.Delete, t.ConditionCheck} {
				if part != nil {
					add(part.Key)
					add(part.Item)
				}
			}
		}
	}
	return out
}

// queryKeys finds the value a key condition sets attribute pk equal to.
func queryKeys(r request, pk string) []string {
	name := func(operand string) string {
		if n, ok := r.ExpressionAttributeNames[operand]; ok {
			return n
		}
		return operand
	}
	var out []string
	for _, m := range equality.FindAllStringSubmatch(r.KeyConditionExpression, -1) {
		a, b := m[1], m[2]
		if a[0] == ':' {
			a, b = b, a
		}
		if b[0] != ':' || name(a) != pk {
			continue
		}
		if v, ok := r.ExpressionAttributeValues[b].value(); ok {
			out = append(out, v)
		}
	}
	return out
}

func (a attr) value() (string, bool) {
	switch {
	case a.S != nil:
		return *a.S, true
	case a.N != nil:
		return *a.N, true
	}
	return "", false
}
