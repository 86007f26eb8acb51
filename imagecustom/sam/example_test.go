package sam_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/imagecustom/go-imagecustom/hive"
	"github.com/imagecustom/go-imagecustom/imagecustom/sam"
)

// ExampleSAM_SetPassword opens the SAM and SYSTEM hives of the bundled
// Windows XP fixture, gives them keys (the fixture has none: a real
// install always does), sets Administrator's password and lists the
// accounts.
func ExampleSAM_SetPassword() {
	samHive, err := hive.OpenFile("../../testdata/hives/winxp/SAM", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	system, err := hive.OpenFile("../../testdata/hives/winxp/SYSTEM", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := sam.CreateKeys(samHive, system, sam.RC4, rand.NewChaCha8([32]byte{})); err != nil {
		fmt.Println(err)
		return
	}
	s, err := sam.Open(samHive, system)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := s.SetPassword("Administrator", "correct horse"); err != nil {
		fmt.Println(err)
		return
	}
	users, err := s.Users()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, u := range users {
		fmt.Printf("%d %s password %s, disabled %v, groups %v\n", u.RID, u.Name, u.Password, u.Disabled(), u.Groups)
	}
	// Output:
	// 500 Administrator password set, disabled false, groups [Administrators]
	// 501 Guest password blank, disabled true, groups [Guests]
	// 1000 HelpAssistant password blank, disabled true, groups []
	// 1002 SUPPORT_388945a0 password blank, disabled true, groups []
}
