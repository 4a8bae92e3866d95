// Package peerbench compares werun-sam's open-data decrypt and WeRun parse
// with github.com/silenceper/wechat/v2's. It is a separate module so that
// the peer never enters the application's go.mod; run it with
//
//	cd shared/crypto/peerbench && go test -bench . -benchmem -count 3
package peerbench
