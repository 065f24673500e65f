package seal_test

import (
	"errors"
	"fmt"
	"log"

	"akconn/seal"
)

func Example() {
	// In the server: seal.New(os.Getenv("SECRET_KEY")) or
	// seal.LoadKeyFile / seal.LoadOrCreate("data/akconn.db.key").
	k, err := seal.New("an example key of at least 32 characters, never use it")
	if err != nil {
		log.Fatal(err)
	}
	row := seal.AssociatedData{Table: "connections", Column: "access_token", ID: "42"}
	stored, err := k.Seal("gho_16C7e42F292c6912E7710c838347Ae178B4a", row)
	if err != nil {
		log.Fatal(err)
	}
	id, _ := seal.KeyID(stored)
	fmt.Println(seal.IsSealed(stored), id == k.SealingKeyID(), k.NeedsReseal(stored))

	token, err := k.Open(stored, row)
	fmt.Println(token, err)

	// The same value copied to another row does not open.
	_, err = k.Open(stored, seal.AssociatedData{Table: "connections", Column: "access_token", ID: "43"})
	fmt.Println(errors.Is(err, seal.ErrTampered))
	// Output:
	// true true false
	// gho_16C7e42F292c6912E7710c838347Ae178B4a <nil>
	// true
}

func ExampleKeyring_Verify() {
	// The store keeps one (key_id, check_value) row per key that has sealed.
	stored := map[string]string{}
	start := func(k *seal.Keyring) error {
		for id, value := range stored {
			if err := k.Verify(id, value); err != nil {
				return err // names the key id; refuse to start
			}
		}
		if _, ok := stored[k.SealingKeyID()]; !ok {
			id, value := k.CheckValue()
			stored[id] = value
		}
		return nil
	}
	right, _ := seal.New("an example key of at least 32 characters, never use it")
	wrong, _ := seal.New("a mistyped key of at least 32 characters, never use it")
	fmt.Println(start(right))
	var missing *seal.UnknownKeyError
	fmt.Println(errors.As(start(wrong), &missing), missing.KeyID == right.SealingKeyID())
	// Output:
	// <nil>
	// true true
}
