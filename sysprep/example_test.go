package sysprep_test

import (
	"errors"
	"fmt"

	"github.com/imagecustom/go-imagecustom/sysprep"
)

func ExampleDecodeYAML() {
	_, err := sysprep.DecodeYAML([]byte(`
identity:
  computerName: WEB01
  autoLogonCount: twice
network:
  adapters:
    - mac: 00:50:56:9a:0b:0c
      gateway: 192.0.2.1
`))
	var de *sysprep.DecodeError
	if errors.As(err, &de) {
		for _, f := range de.Fields {
			fmt.Println(f)
		}
	}
	// Output:
	// line 4: identity.autoLogonCount: wrong type: want an integer, got "twice"
	// line 8: network.adapters[0].gateway: unknown field: adapter has no field "gateway"
}

func ExampleValidate() {
	spec := &sysprep.Spec{
		Identity:   sysprep.Identity{ComputerName: "WEB01", FullName: "Admin"},
		Membership: sysprep.Membership{Domain: "corp.example.com"},
		Network: sysprep.Network{Adapters: []sysprep.Adapter{
			{MAC: "00:50:56:9a:0b:0c", IPv4: "10.0.0.5/24", Gateways: []string{"10.0.0.300", "10.0.1.1"}},
		}},
	}
	for _, p := range sysprep.Validate(spec, sysprep.WinXP) {
		fmt.Println(p)
	}
	// Output:
	// membership.domainUser: missing: joining "corp.example.com" needs an account
	// membership.domainPassword: missing: joining "corp.example.com" needs the account's password
	// network.adapters[0].gateways[0]: "10.0.0.300" is not an IPv4 address
	// network.adapters[0].gateways[1]: 10.0.1.1 is outside the adapter's subnet 10.0.0.0/24
}
