package sysprep_test

import (
	"testing"

	"github.com/imagecustom/go-imagecustom/sysprep"
)

func BenchmarkRender(b *testing.B) {
	spec := readSpec(b, "static-domain.yaml")
	for _, f := range []sysprep.Family{sysprep.WinXP, sysprep.Vista} {
		b.Run(f.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := sysprep.Render(spec, sysprep.Options{Family: f, Arch: sysprep.AMD64}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeYAML(b *testing.B) {
	data := readFile(b, "static-domain.yaml")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sysprep.DecodeYAML(data); err != nil {
			b.Fatal(err)
		}
	}
}
