package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/werun-sam/werun-sam/shared/api"
	"github.com/werun-sam/werun-sam/shared/boards"
	"github.com/werun-sam/werun-sam/shared/usecases"
)

// Function is one Lambda function of template.yaml.
type Function struct {
	LogicalID string // its logical id in template.yaml
	Dir       string // its main package: functions/<Dir>
	Needs     Needs  // the secrets it reads, and so may read
	// Handler is what lambda.Start gets, over the function's service.
	Handler func(*usecases.Set) lambda.Handler
}

// Functions is every function of the application, in template order.
var Functions = []Function{
	{"SessionFunction", "session", Needs{AppSecret: true, SessionTokens: true, LoginCodes: true, StoredSecrets: true}, httpHandler(api.Session)},
	{"DecryptFunction", "decrypt", Needs{AppSecret: true, SessionTokens: true, LoginCodes: true, StoredSecrets: true}, httpHandler(api.Decrypt)},
	{"OpenDataFunction", "opendata", Needs{AppSecret: true, SessionTokens: true, StoredSecrets: true}, httpHandler(api.CloudID)},
	{"StepsFunction", "steps", Needs{SessionTokens: true}, httpHandler(api.Steps)},
	{"SocialFunction", "social", Needs{AppSecret: true, SessionTokens: true, StoredSecrets: true}, httpHandler(api.Social)},
	{"AccountFunction", "account", Needs{SessionTokens: true}, httpHandler(api.Account)},
	{"RefreshFunction", "refresh", Needs{AppSecret: true, StoredSecrets: true}, scheduled},
	{"ChallengeFunction", "challenge", Needs{AppSecret: true, SessionTokens: true, StoredSecrets: true}, httpHandler(api.Challenge)},
}

func httpHandler(h func(*usecases.Set) api.Handler) func(*usecases.Set) lambda.Handler {
	return func(svc *usecases.Set) lambda.Handler { return lambda.NewHandler(h(svc)) }
}

// scheduled is the refresher (EventBridge Scheduler's event carries nothing
// it needs): first the second passes of the deletions due (so every one
// finishes within the bound, whatever the boards cost), then the access
// token and the boards, also when a second pass failed; the run fails
// then, so the refresher's error alarm fires.
func scheduled(svc *usecases.Set) lambda.Handler {
	return lambda.NewHandler(func(ctx context.Context, _ events.EventBridgeEvent) (boards.RefreshReport, error) {
		finished, derr := svc.Account.FinishDeletions(ctx)
		rep, err := svc.Boards.Refresh(ctx)
		rep.Deletions = finished
		return rep, errors.Join(derr, err)
	})
}

// Lookup returns the function with the given logical id.
func Lookup(logicalID string) (Function, error) {
	for _, f := range Functions {
		if f.LogicalID == logicalID {
			return f, nil
		}
	}
	return Function{}, fmt.Errorf("app: no function %q in the registry", logicalID)
}

// Handler reads the configuration of the function with the given logical id
// and returns its handler, built once for the container.
//
// with adds what only that function's main links (the challenge function's
// sheet writer), so the others do not carry it.
func Handler(ctx context.Context, logicalID string, with ...func(*usecases.Config)) (lambda.Handler, error) {
	f, err := Lookup(logicalID)
	if err != nil {
		return nil, err
	}
	svc, keys, err := useCases(ctx, f.Needs, with...)
	if err != nil {
		return nil, err
	}
	if keys == nil {
		return f.Handler(svc), nil
	}
	return freshKeys{f.Handler(svc), keys}, nil
}
