package main

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
	"github.com/spf13/cobra"
)

func (a *app) netCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "net",
		Short: "The network adapters an image's Windows knows, and their TCP/IP settings",
	}
	cmd.AddCommand(a.netListCommand(), a.netSetCommand())
	return cmd
}

func (a *app) netListCommand() *cobra.Command {
	var vf volumeFlags
	cmd := &cobra.Command{
		Use:   "list IMAGE",
		Short: "List the network adapters: GUID, number, driver, PCI location, TCP/IP settings",
		Args:  exactArgs(1, "IMAGE"),
		RunE: runE(func(_ *cobra.Command, args []string) error {
			img, _, reg, err := vf.openRegistry(args[0])
			if err != nil {
				return err
			}
			defer img.Close()
			as, err := imagecustom.Adapters(reg)
			if err != nil {
				return err
			}
			if a.json {
				if as == nil {
					as = []imagecustom.Adapter{}
				}
				return a.printJSON(map[string][]imagecustom.Adapter{"adapters": as})
			}
			for _, ad := range as {
				fmt.Fprintf(a.stdout, "%04d %s %s\n", ad.Number, ad.ID, ad.Description)
				field := func(name, val string) {
					if val != "" {
						fmt.Fprintf(a.stdout, "     %-12s %s\n", name+":", val)
					}
				}
				field("service", ad.Service)
				field("device", ad.Device)
				field("location", ad.Location)
				switch {
				case !ad.TCPIP:
					field("tcp/ip", "not bound")
				case ad.DHCP:
					ip := "dhcp"
					if ad.DHCPAddress != "" {
						ip += " (last lease " + ad.DHCPAddress + ")"
					}
					field("ipv4", ip)
				default:
					var ps []string
					for i, ip := range ad.IPAddress {
						if i < len(ad.SubnetMask) {
							ip += "/" + ad.SubnetMask[i]
						}
						ps = append(ps, ip)
					}
					field("ipv4", strings.Join(ps, ", "))
				}
				field("gateway", strings.Join(ad.DefaultGateway, ", "))
				field("dns", strings.Join(ad.NameServer, ", "))
				field("dns-domain", ad.Domain)
				field("wins", strings.Join(ad.WINS, ", "))
				if ad.TCPIP {
					field("netbios", ad.NetBIOS)
				}
			}
			return nil
		}),
	}
	vf.add(cmd)
	return cmd
}

func (a *app) netSetCommand() *cobra.Command {
	var wf writeFlags
	var ipv4, domain, netbios string
	var gateways, dns, wins []string
	cmd := &cobra.Command{
		Use:   "set IMAGE ADAPTER --ipv4 ADDR/PREFIX|dhcp [--gateway G]... [--dns S]... [--dns-domain D] [--wins W]... [--netbios dhcp|enabled|disabled]",
		Short: "Set an adapter's TCP/IP configuration, where Windows keeps it",
		Long: `Set the TCP/IP configuration of ADAPTER (its GUID as net list shows it, or its
number) in every control set that boots: Tcpip's interface key, XP and 2003's
Adapters key, and NetBT's interface key. --ipv4 takes ADDR/PREFIX (repeat the flag,
or separate with commas, for several) or dhcp.

The settings belong to the adapter's GUID. A NIC Windows finds at another PCI
location or of another model gets a new GUID and DHCP; generalizing the image
(sysprep) removes every device, so every NIC comes back new. Configure those
at first boot instead (firstboot add with netsh), or in the sysprep answer file.`,
		Args: exactArgs(2, "IMAGE ADAPTER"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			if ipv4 == "" {
				return usagef("net set: --ipv4 ADDR/PREFIX or --ipv4 dhcp is required")
			}
			var cfg imagecustom.AdapterConfig
			if strings.EqualFold(ipv4, "dhcp") {
				cfg.DHCP = true
			} else {
				for _, s := range splitList([]string{ipv4}) {
					p, err := netip.ParsePrefix(s)
					if err != nil {
						return usagef("--ipv4 %s: ADDR/PREFIX, like 192.0.2.10/24, or dhcp", s)
					}
					cfg.Addresses = append(cfg.Addresses, p)
				}
			}
			for _, l := range []struct {
				flag string
				in   []string
				out  *[]netip.Addr
			}{{"--gateway", gateways, &cfg.Gateways}, {"--dns", dns, &cfg.DNS}, {"--wins", wins, &cfg.WINS}} {
				for _, s := range splitList(l.in) {
					ad, err := netip.ParseAddr(s)
					if err != nil {
						return usagef("%s %s: an IPv4 address", l.flag, s)
					}
					*l.out = append(*l.out, ad)
				}
			}
			if cmd.Flags().Changed("dns-domain") {
				cfg.Domain = &domain
			}
			cfg.NetBIOS = netbios
			return a.writeSettings(args[0], &wf, func(_ *ntfs.Volume, reg *imagecustom.Registry, w *imagecustom.Windows, _ *settingsReport) ([]imagecustom.Edit, error) {
				return imagecustom.SetAdapter(reg, w, args[1], cfg)
			})
		}),
	}
	cmd.Flags().StringVar(&ipv4, "ipv4", "", "static `ADDR/PREFIX` (comma-separated for several), or dhcp")
	cmd.Flags().StringArrayVar(&gateways, "gateway", nil, "default gateway `G` (repeatable)")
	cmd.Flags().StringArrayVar(&dns, "dns", nil, "DNS server `S` (repeatable, in order)")
	cmd.Flags().StringVar(&domain, "dns-domain", "", "the connection's DNS suffix `D` (\"\" clears it)")
	cmd.Flags().StringArrayVar(&wins, "wins", nil, "WINS server `W` (repeatable)")
	cmd.Flags().StringVar(&netbios, "netbios", "", "NetBIOS over TCP/IP: dhcp, enabled or disabled")
	wf.add(cmd)
	return cmd
}

// splitList splits flag values on commas.
func splitList(in []string) []string {
	var out []string
	for _, s := range in {
		for _, f := range strings.Split(s, ",") {
			if f = strings.TrimSpace(f); f != "" {
				out = append(out, f)
			}
		}
	}
	return out
}
