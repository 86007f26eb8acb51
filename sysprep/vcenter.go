package sysprep

// DecodeVCenter decodes a vCenter customization spec exported as XML.
func DecodeVCenter(data []byte) (*Spec, error) {
	return nil, ErrUnsupported
}
