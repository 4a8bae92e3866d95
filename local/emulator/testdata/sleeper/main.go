// Command sleeper is a Lambda function that never answers within its
// timeout, to test what the local stack makes of the emulator's timeout.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(ctx context.Context) error {
		<-ctx.Done()
		select {} // past the deadline, as a stuck function would be
	})
}
