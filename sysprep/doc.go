// Package sysprep holds the customization spec of a Windows image and
// turns it into the files Windows setup reads on the first boot.
//
// A [Spec] says who the machine is (name, owner, time zone, passwords),
// which workgroup or domain it joins, how its network adapters are set up
// (matched by MAC address), and what runs after setup. It has a YAML and
// a JSON form ([Decode]), decoded strictly: every unknown field, type
// error or duplicate is reported with its path and line. Its names follow
// vSphere's CustomizationSpec, and [DecodeVCenter] imports a vCenter spec
// exported as XML (Sysprep and SysprepText identities).
//
// [Validate] checks a spec for an OS [Family] and reports every problem
// with its field path. [Render] writes the artifacts of one family and
// architecture: sysprep.inf, cmdlines.txt and scripts for Windows 2000,
// XP and 2003 (Windows-1252, CRLF); unattend.xml and SetupComplete.cmd
// for Vista and later (UTF-8). Each comes with its target path in the
// image, and the registry changes that make setup run come as data: this
// package writes no image.
//
// The one ordering guarantee: when any adapter has a static address (or
// other settings of its own), no step joins the domain before every
// static adapter is configured. The Plan of a [Result] lists the steps
// in the order Windows runs them.
//
// The formats follow the project's reference notes
// (shared/reference/windows-offline.md); README.md in this folder says
// which claims were checked against real files and which remain to be
// tried on a real Windows.
package sysprep
