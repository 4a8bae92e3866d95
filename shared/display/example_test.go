package display_test

import (
	"errors"
	"fmt"

	"github.com/werun-sam/werun-sam/shared/display"
)

func ExampleName() {
	name, err := display.Name("  Jose\u0301 👍🏽\t", 32)
	fmt.Printf("%q %v\n", name, err)

	_, err = display.Name("alice\u200b", 32)
	fmt.Println(err, errors.Is(err, display.ErrInvisible))
	// Output:
	// "José 👍🏽" <nil>
	// invisible, format or direction-changing character U+200B at position 6 true
}

func ExampleAvatarURL() {
	hosts, err := display.NewHosts("thirdwx.qlogo.cn", ".cdn.example.com")
	if err != nil {
		panic(err)
	}
	for _, raw := range []string{
		"https://img.cdn.example.com/u/42.png",
		"https://169.254.169.254/latest/meta-data/",
		"https://cdn.example.org/u/42.png",
	} {
		fmt.Println(display.AvatarURL(raw, hosts))
	}
	// Output:
	// <nil>
	// names an IP address instead of a host name
	// host is not one of the allowed avatar hosts
}
