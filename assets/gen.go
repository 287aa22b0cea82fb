//go:build ignore

// gen draws the four bundled carousel images. Run it once from this directory
// (go generate ./assets) and commit the PNGs; nothing runs it at build time.
package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
	"path/filepath"
)

const width, height = 640, 360

// Scene geometry below is given on a 480x270 canvas and scaled to the output size.
const designWidth, designHeight = 480, 270

// scene paints one landscape: a sky gradient, a sun or moon, and layers of hills.
type scene struct {
	name             string
	skyTop, skyLow   color.RGBA
	disc             color.RGBA
	discX, discY, dr float64
	stars            bool
	hills            []hill
}

// hill is a ridge line y = base + amp*sin(freq*x + phase) + amp/3*sin(3.1*freq*x), filled below.
type hill struct {
	base, amp, freq, phase float64
	fill                   color.RGBA
}

var scenes = []scene{
	{name: "sample-1.png", // sunset over dunes
		skyTop: rgb(46, 49, 146), skyLow: rgb(255, 149, 94), disc: rgb(255, 214, 102), discX: 330, discY: 170, dr: 38,
		hills: []hill{{185, 14, 0.012, 0.5, rgb(197, 94, 72)}, {215, 10, 0.02, 2, rgb(140, 60, 62)}, {245, 8, 0.03, 4, rgb(82, 38, 56)}}},
	{name: "sample-2.png", // green hills at noon
		skyTop: rgb(64, 156, 255), skyLow: rgb(200, 233, 255), disc: rgb(255, 250, 205), discX: 90, discY: 60, dr: 26,
		hills: []hill{{170, 20, 0.01, 1, rgb(134, 196, 98)}, {205, 16, 0.018, 3, rgb(86, 160, 72)}, {240, 10, 0.026, 5, rgb(48, 112, 60)}}},
	{name: "sample-3.png", // night mountains under a moon
		skyTop: rgb(8, 12, 40), skyLow: rgb(40, 60, 120), disc: rgb(240, 240, 220), discX: 380, discY: 70, dr: 22, stars: true,
		hills: []hill{{150, 45, 0.02, 0, rgb(52, 62, 110)}, {200, 30, 0.028, 2, rgb(34, 40, 80)}, {240, 12, 0.04, 1, rgb(18, 22, 48)}}},
	{name: "sample-4.png", // misty lake at dawn
		skyTop: rgb(255, 183, 197), skyLow: rgb(255, 236, 210), disc: rgb(255, 255, 240), discX: 240, discY: 150, dr: 30,
		hills: []hill{{160, 25, 0.015, 2, rgb(170, 150, 190)}, {185, 12, 0.022, 0, rgb(120, 110, 160)}, {220, 0, 0, 0, rgb(150, 190, 220)}}},
}

// starAt scatters stars with an integer hash, so the images are the same on every run.
func starAt(x, y int) bool {
	h := uint32(x)*73856093 ^ uint32(y)*19349663
	h ^= h >> 13
	h *= 0x5bd1e995
	h ^= h >> 15
	return h%1500 == 0
}

func rgb(r, g, b uint8) color.RGBA { return color.RGBA{r, g, b, 255} }

func lerp(a, b color.RGBA, t float64) color.RGBA {
	mix := func(x, y uint8) uint8 { return uint8(float64(x) + (float64(y)-float64(x))*t + 0.5) }
	return color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 255}
}

func (s scene) draw() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	for y := 0; y < height; y++ {
		// Quantise the gradient into bands so each row repeats and PNG compresses it well.
		band := math.Floor(float64(y)/3) * 3 / height
		sky := lerp(s.skyTop, s.skyLow, band)
		fy := float64(y) * designHeight / height
		for x := 0; x < width; x++ {
			fx := float64(x) * designWidth / width
			c := sky
			if d := math.Hypot(fx-s.discX, fy-s.discY); d < s.dr {
				c = s.disc
			} else if s.stars && starAt(x, y) {
				c = rgb(255, 255, 230)
			}
			for _, h := range s.hills {
				ridge := h.base + h.amp*math.Sin(h.freq*fx+h.phase) + h.amp/3*math.Sin(3.1*h.freq*fx)
				if fy >= ridge {
					c = h.fill
				}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func main() {
	for _, s := range scenes {
		if err := write(filepath.Join("carousel", s.name), s.draw()); err != nil {
			log.Fatal(err)
		}
	}
}

func write(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return f.Close()
}
