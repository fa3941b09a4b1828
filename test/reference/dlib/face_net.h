// dlib's face recognition network type, as dlib's dnn_face_recognition_ex declares it: the layer
// types must match those serialised in dlib_face_recognition_resnet_model_v1.dat. Shared by the
// oracle recorder (test/reference/dlib/reference.cpp) and bench/dlib/lfw.cpp.
#pragma once
#include <dlib/dnn.h>

namespace visage_reference {
using namespace dlib;

template <template <int, template <typename> class, int, typename> class Block, int N, template <typename> class BN, typename Sub>
using residual = add_prev1<Block<N, BN, 1, tag1<Sub>>>;
template <template <int, template <typename> class, int, typename> class Block, int N, template <typename> class BN, typename Sub>
using residual_down = add_prev2<avg_pool<2, 2, 2, 2, skip1<tag2<Block<N, BN, 2, tag1<Sub>>>>>>;
template <int N, template <typename> class BN, int Stride, typename Sub>
using block = BN<con<N, 3, 3, 1, 1, relu<BN<con<N, 3, 3, Stride, Stride, Sub>>>>>;
template <int N, typename Sub> using ares = relu<residual<block, N, affine, Sub>>;
template <int N, typename Sub> using ares_down = relu<residual_down<block, N, affine, Sub>>;
template <typename Sub> using level0 = ares_down<256, Sub>;
template <typename Sub> using level1 = ares<256, ares<256, ares_down<256, Sub>>>;
template <typename Sub> using level2 = ares<128, ares<128, ares_down<128, Sub>>>;
template <typename Sub> using level3 = ares<64, ares<64, ares<64, ares_down<64, Sub>>>>;
template <typename Sub> using level4 = ares<32, ares<32, ares<32, Sub>>>;
using face_net = loss_metric<fc_no_bias<128, avg_pool_everything<
    level0<level1<level2<level3<level4<
    max_pool<3, 3, 2, 2, relu<affine<con<32, 7, 7, 2, 2, input_rgb_image_sized<150>>>>>>>>>>>>>;

}  // namespace visage_reference
