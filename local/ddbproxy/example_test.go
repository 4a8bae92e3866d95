package ddbproxy_test

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/werun-sam/werun-sam/internal/services"
	"github.com/werun-sam/werun-sam/internal/template"
	"github.com/werun-sam/werun-sam/local/ddbproxy"
)

// A race test holds a write at the proxy, runs what must race it, then
// lets the write land. (A test gets its proxy from ForTests, or from the
// local stack's Stack.Proxy; this example starts everything itself.)
func Example_holdUntilReleased() {
	ctx := context.Background()
	ps := &services.Procs{}
	defer ps.StopAll()
	env, err := services.Start(ctx, ps, io.Discard, services.Need{DynamoDB: true})
	if err != nil {
		panic(err)
	}
	tmpl, err := template.LoadRepo()
	if err != nil {
		panic(err)
	}
	keys, err := ddbproxy.KeysOf(tmpl)
	if err != nil {
		panic(err)
	}
	p, err := ddbproxy.Start("127.0.0.1:0", env.DynamoDB, keys)
	if err != nil {
		panic(err)
	}
	defer p.Close()

	h, err := p.Add(ddbproxy.Rule{Op: "PutItem", KeyPrefix: "GROUP#", Action: ddbproxy.Late, Hold: ddbproxy.UntilReleased, Count: 1})
	if err != nil {
		panic(err)
	}
	put := make(chan error)
	go func() {
		_, err := services.Client(p.URL).PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(env.Table), Item: key("GROUP#1")})
		put <- err
	}()
	req, err := h.Wait(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println(req.Op, req.Keys, req.Outcome())
	// Here the test runs what must race the write, e.g. a deletion.
	req.Release()
	<-req.Done()
	fmt.Println(req.Outcome(), <-put)
	// Output:
	// PutItem [GROUP#1] held
	// forwarded late: 200 <nil>
}
