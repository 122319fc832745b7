#pragma once
// An RGB canvas for the report's charts and image grids: lines, rectangles, circles, text.
// With the opencv backend every call is the matching cv:: drawing call (cv::line,
// cv::rectangle, cv::circle, cv::putText with FONT_HERSHEY_SIMPLEX), so its PNGs are the
// ones OpenCV draws. The stb backend rasterises them itself: the same shapes and coverage-
// blended anti-aliasing, and text in stb_easy_font's 5x7-unit segment font (ASCII 32..126,
// others drawn as '?'), scaled by whole pixels, so smaller and blockier than OpenCV's Hershey
// font at the same scale; text_size() measures whichever font is compiled in.

#include <cstdint>
#include <string>
#include <vector>

#include "partplan/imaging/image.hpp"

namespace partplan::imaging {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
};

/// A pixel position: x to the right, y down, (0, 0) the top-left pixel. Positions outside the
/// canvas are allowed: drawing is clipped.
struct Point {
  int x = 0, y = 0;
};

/// Text extent in pixels: `height` above the baseline, `baseline` below it (descenders).
struct TextSize {
  int width = 0, height = 0, baseline = 0;
};

class Canvas {
 public:
  /// width x height pixels of `background`. Throws std::invalid_argument on a size below 1.
  Canvas(int width, int height, Rgb background);

  /// A straight line from `from` to `to`, both ends included, `thickness` pixels wide (>= 1).
  void line(Point from, Point to, Rgb color, int thickness = 1, bool antialiased = false);
  /// The outline (1 pixel) of the rectangle with opposite corners `a` and `b`, both included.
  void rectangle(Point a, Point b, Rgb color);
  /// A disc (`filled`) or a 1-pixel ring of `radius` around `centre`.
  void circle(Point centre, int radius, Rgb color, bool filled, bool antialiased = false);
  /// `text` with its baseline starting at `origin` (the bottom-left of the first character),
  /// `scale` relative to the font's nominal size (OpenCV's fontScale: 0.4 is small print),
  /// anti-aliased where the backend's font is.
  void text(const std::string& text, Point origin, double scale, Rgb color);
  /// The extent text(text, ..., scale) covers.
  static TextSize text_size(const std::string& text, double scale);

  /// Copy an RGB image in with its top-left pixel at `top_left`; throws std::invalid_argument
  /// unless it fits and has 3 channels.
  void paste(const ImageU8& rgb, Point top_left);

  /// The pixels drawn so far: height x width x 3, RGB.
  const ImageU8& image() const { return image_; }
  int width() const { return image_.width; }
  int height() const { return image_.height; }

  /// encode_png(image()).
  std::vector<uint8_t> encode_png() const;

 private:
  ImageU8 image_;
};

}  // namespace partplan::imaging
