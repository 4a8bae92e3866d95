module github.com/werun-sam/werun-sam/shared/crypto/peerbench

go 1.26.0

require (
	github.com/silenceper/wechat/v2 v2.1.10
	github.com/werun-sam/werun-sam v0.0.0
)

require (
	github.com/bradfitz/gomemcache v0.0.0-20220106215444-fb4bf637b56d // indirect
	github.com/cespare/xxhash/v2 v2.1.2 // indirect
	github.com/dgryski/go-rendezvous v0.0.0-20200823014737-9f7001d12a5f // indirect
	github.com/go-redis/redis/v8 v8.11.5 // indirect
	golang.org/x/crypto v0.58.0 // indirect
)

replace github.com/werun-sam/werun-sam => ../../..
