#!/usr/bin/env python3
"""
Fine-tunes face-api's expression network (FaceFeatureExtractor dense blocks + FC, the same graph
src/models/expression/graph.ts builds) end to end on the training part of fer2013-train, and
writes the new weights in face-api's format for visage's own reader. A dev-time tool only
(Debian's python3-torch, CPU); the inputs come from bench/dump-expression-inputs.ts, so the crop
and preprocessing are the pipeline's, written once in TypeScript.

  /usr/bin/python3 bench/train-expression-net.py check  [--data /tmp/visage-fer-net]
  /usr/bin/python3 bench/train-expression-net.py train  [--data ...] [--epochs 6] [--lr 3e-4] [--seed 1]
      [--freeze 0] [--batch 32] [--limit N] [--out /tmp/visage-fer-net/run]
  /usr/bin/python3 bench/train-expression-net.py export --checkpoint <run>/epoch-K.pt --to models/visage-expression
  /usr/bin/python3 bench/train-expression-net.py eval --checkpoint <run>/epoch-K.pt [--set tune|ckplus6 (half A only)]
      [--blend 0,0.25,0.5]

check: the port's logits against visage's ONNX logits on the dumped real inputs (must be < 1e-3).
train: a seeded 10% of the training part ("tune") is held out and picks the epoch; the validation
split of fer2013-train is never read. One thread (torch.set_num_threads(1)); run it under nice.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

SIZE = 112
MEAN_RGB = (122.782, 117.001, 104.298)
CLASSES = 7


def load_weights(prefix):
    """The float32 weights dumped by dump-expression-inputs.ts: name -> numpy array (TF layouts)."""
    entries = json.load(open(prefix + '.json'))
    flat = np.fromfile(prefix + '.f32', dtype='<f4')
    out = {}
    for e in entries:
        n = int(np.prod(e['shape']))
        out[e['name']] = flat[e['offset']:e['offset'] + n].reshape(e['shape'])
    return out, [e['name'] for e in entries]


def same_pad(x, stride):
    """TF 'same' for a 3x3 kernel: pad total max((out-1)*stride+3-in, 0), the odd pixel at the bottom/right."""
    h, w = x.shape[2], x.shape[3]

    def amount(n):
        out = math.ceil(n / stride)
        total = max((out - 1) * stride + 3 - n, 0)
        return total // 2, total - total // 2

    top, bottom = amount(h)
    left, right = amount(w)
    return F.pad(x, (left, right, top, bottom))


class ExpressionNet(torch.nn.Module):
    """face-api's FaceExpressionNet: 4 dense blocks of 4 convs (112 -> 7), avg pool, FC to 7 logits."""

    def __init__(self, tf_weights):
        super().__init__()
        self.params = torch.nn.ParameterDict()
        for name, a in tf_weights.items():
            t = torch.from_numpy(np.ascontiguousarray(a)).float()
            if name.endswith('/filters'):  # HWIO -> OIHW
                t = t.permute(3, 2, 0, 1)
            elif name.endswith('/depthwise_filter'):  # H W C 1 -> C 1 H W
                t = t.permute(2, 3, 0, 1)
            elif name.endswith('/pointwise_filter'):  # 1 1 I O -> O I 1 1
                t = t.permute(3, 2, 0, 1)
            elif name == 'fc/weights':  # [256, 7] -> [7, 256]
                t = t.t()
            self.params[name.replace('/', '__')] = torch.nn.Parameter(t.contiguous())

    def p(self, name):
        return self.params[name.replace('/', '__')]

    def sep(self, x, prefix, stride):
        dw = self.p(prefix + '/depthwise_filter')
        x = F.conv2d(same_pad(x, stride), dw, stride=stride, groups=dw.shape[0])
        return F.conv2d(x, self.p(prefix + '/pointwise_filter'), self.p(prefix + '/bias'))

    def block(self, x, b):
        prefix = 'dense%d' % b
        if b == 0:
            c0 = F.conv2d(same_pad(x, 2), self.p(prefix + '/conv0/filters'), self.p(prefix + '/conv0/bias'), stride=2)
        else:
            c0 = self.sep(x, prefix + '/conv0', 2)
        out1 = F.relu(c0)
        out2 = self.sep(out1, prefix + '/conv1', 1)
        out3 = self.sep(F.relu(out1 + out2), prefix + '/conv2', 1)
        out4 = self.sep(F.relu(out1 + (out2 + out3)), prefix + '/conv3', 1)
        return F.relu(out1 + (out2 + (out3 + out4)))

    def forward(self, x):
        """x: float NCHW 0..255 RGB."""
        mean = torch.tensor(MEAN_RGB, dtype=x.dtype).view(1, 3, 1, 1)
        x = (x - mean) / 255
        for b in range(4):
            x = self.block(x, b)
        features = F.avg_pool2d(x, 7, stride=2).flatten(1)
        return F.linear(features, self.p('fc/weights'), self.p('fc/bias'))

    def tf_weights(self):
        """The parameters back in face-api's layouts, by name."""
        out = {}
        for key, t in self.params.items():
            name = key.replace('__', '/')
            t = t.detach()
            if name.endswith('/filters'):
                t = t.permute(2, 3, 1, 0)
            elif name.endswith('/depthwise_filter'):
                t = t.permute(2, 3, 0, 1)
            elif name.endswith('/pointwise_filter'):
                t = t.permute(2, 3, 1, 0)
            elif name == 'fc/weights':
                t = t.t()
            out[name] = t.contiguous().numpy()
        return out


def load_set(data, name):
    meta = json.load(open(os.path.join(data, name + '.json')))
    x = np.fromfile(os.path.join(data, name + '.u8'), dtype=np.uint8).reshape(meta['n'], SIZE, SIZE, 3)
    return x, np.array(meta['labels'], dtype=np.int64), meta


def to_nchw(batch_u8):
    return torch.from_numpy(batch_u8).permute(0, 3, 1, 2).float()


def logits_of(net, x, batch=32, mirror=False):
    """Batches of 32: on one CPU thread larger ones run slower per face (the 56x56 maps leave the cache)."""
    out = []
    with torch.no_grad():
        for s in range(0, len(x), batch):
            t = to_nchw(x[s:s + batch])
            if mirror:
                t = torch.flip(t, dims=[3])
            out.append(net(t))
    return torch.cat(out)


def probabilities(net, x, mirror_average=True):
    p = F.softmax(logits_of(net, x), 1)
    if mirror_average:
        p = (p + F.softmax(logits_of(net, x, mirror=True), 1)) / 2
    return p


def accuracy(p, labels, classes=None):
    """Accuracy and per-class recall; `classes` restricts the prediction to those indices (CK+'s six)."""
    if classes is not None:
        mask = torch.full((CLASSES,), float('-inf'))
        mask[classes] = 0
        p = p + mask
    pred = p.argmax(1).numpy()
    recall = {int(c): float((pred[labels == c] == c).mean()) for c in np.unique(labels)}
    return float((pred == labels).mean()), recall


def base_net(data):
    w, _ = load_weights(os.path.join(data, 'faceapi-expression'))
    return ExpressionNet(w)


def cmd_check(args):
    torch.set_num_threads(1)
    net = base_net(args.data).eval()
    worst = 0.0
    for name in ('validation', 'ckplus6', 'train'):
        path = os.path.join(args.data, name + '.check.f32')
        if not os.path.exists(path):
            continue
        ref = np.fromfile(path, dtype='<f4').reshape(-1, CLASSES)
        x, _, _ = load_set(args.data, name)
        got = logits_of(net, x[:len(ref)]).numpy()
        diff = float(np.abs(got - ref).max())
        worst = max(worst, diff)
        print('%s: %d faces, max abs logit diff torch vs ONNX %.2e' % (name, len(ref), diff))
    if worst >= 1e-3:
        sys.exit('port differs from visage\'s ONNX graph')


def augment(batch, rng):
    """Flip, small rotation / scale / shift, brightness and contrast; batch float NCHW 0..255."""
    n = batch.shape[0]
    flip = torch.from_numpy(rng.random(n) < 0.5)
    batch = torch.where(flip.view(n, 1, 1, 1), torch.flip(batch, dims=[3]), batch)
    angle = torch.from_numpy(rng.uniform(-12, 12, n) * math.pi / 180).float()
    scale = torch.from_numpy(rng.uniform(0.9, 1.1, n)).float()
    shift = torch.from_numpy(rng.uniform(-0.08, 0.08, (n, 2))).float()
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(batch.shape), align_corners=False)
    batch = F.grid_sample(batch, grid, mode='bilinear', padding_mode='zeros', align_corners=False)
    contrast = torch.from_numpy(rng.uniform(0.8, 1.2, (n, 1, 1, 1))).float()
    bright = torch.from_numpy(rng.uniform(-20, 20, (n, 1, 1, 1))).float()
    mean = batch.mean(dim=(1, 2, 3), keepdim=True)
    return ((batch - mean) * contrast + mean + bright).clamp(0, 255)


def tune_mask(y):
    """The tune part: a seeded 10% of the training part, stratified; it picks the epoch."""
    rng = np.random.default_rng(20261205)
    tune = np.zeros(len(y), dtype=bool)
    for c in range(CLASSES):
        idx = np.flatnonzero(y == c)
        tune[rng.permutation(idx)[:round(len(idx) * 0.1)]] = True
    return tune


def cmd_train(args):
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    rng = np.random.default_rng(args.seed)
    x, y, _ = load_set(args.data, 'train')
    tune = tune_mask(y)
    fit = np.flatnonzero(~tune)
    if args.limit:  # a seeded sample of every class, for quick runs
        fit = np.sort(np.random.default_rng(args.seed).permutation(fit)[:args.limit])
    tune_idx = np.flatnonzero(tune)
    counts = np.bincount(y[fit], minlength=CLASSES)
    # Classes weighted by 1/sqrt(share), normalised to mean 1 over the samples.
    cw = 1 / np.sqrt(counts / counts.sum())
    cw = cw / (cw[y[fit]].mean())
    class_weight = torch.tensor(cw, dtype=torch.float32)
    net = base_net(args.data)
    frozen = ['dense%d' % b for b in range(args.freeze)]
    trainable = [p for k, p in net.params.items() if not any(k.startswith(f + '__') for f in frozen)]
    for k, p in net.params.items():
        p.requires_grad = any(p is q for q in trainable)
    opt = torch.optim.Adam(trainable, lr=args.lr, weight_decay=args.wd)
    steps_per_epoch = math.ceil(len(fit) / args.batch)
    total = steps_per_epoch * args.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))
    os.makedirs(args.out, exist_ok=True)
    log = open(os.path.join(args.out, 'log.txt'), 'a')

    def say(s):
        print(s, flush=True)
        log.write(s + '\n')
        log.flush()

    say('train %s: %d fit, %d tune, class weights %s' % (' '.join(sys.argv[1:]), len(fit), len(tune_idx), np.round(cw, 2).tolist()))
    net.eval()
    acc0, _ = accuracy(probabilities(net, x[tune_idx]), y[tune_idx])
    say('epoch 0: tune %.4f (mirror-averaged)' % acc0)
    best = (acc0, 0)
    for epoch in range(1, args.epochs + 1):
        net.train()
        order = fit[rng.permutation(len(fit))]
        started = time.time()
        seen, loss_sum = 0, 0.0
        for s in range(0, len(order), args.batch):
            idx = np.sort(order[s:s + args.batch])
            batch = augment(to_nchw(x[idx]), rng)
            target = torch.from_numpy(y[idx])
            loss = F.cross_entropy(net(batch), target, weight=class_weight, label_smoothing=args.smoothing)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            seen += len(idx)
            loss_sum += float(loss) * len(idx)
            if (s // args.batch) % 50 == 0:
                say('  epoch %d: %d/%d, loss %.4f, %.0f s' % (epoch, seen, len(order), loss_sum / seen, time.time() - started))
        seconds = time.time() - started
        net.eval()
        acc, recall = accuracy(probabilities(net, x[tune_idx]), y[tune_idx])
        torch.save(net.state_dict(), os.path.join(args.out, 'epoch-%d.pt' % epoch))
        say('epoch %d: loss %.4f, tune %.4f (mirror-averaged), recall %s, %.0f s train' % (
            epoch, loss_sum / seen, acc, {k: round(v, 2) for k, v in recall.items()}, seconds))
        if acc > best[0]:
            best = (acc, epoch)
    say('best epoch %d: tune %.4f' % (best[1], best[0]))


def load_checkpoint(data, checkpoint):
    net = base_net(data)
    if checkpoint:
        net.load_state_dict(torch.load(checkpoint))
    return net.eval()


def cmd_eval(args):
    """Accuracy on the tune part or CK+ half A, crop alone and mirror-averaged, blended with face-api's net."""
    torch.set_num_threads(1)
    net = load_checkpoint(args.data, args.checkpoint)
    x, y, meta = load_set(args.data, 'train' if args.set == 'tune' else args.set)
    rows = np.flatnonzero(tune_mask(y)) if args.set == 'tune' else np.arange(len(y))
    if args.set == 'ckplus6':
        args.half = 'A'
        rows = np.flatnonzero(np.array(meta['halfA']) == 1)
    classes = sorted(set(y.tolist())) if args.set.startswith('ckplus') else None
    for mirror in (False, True):
        p = probabilities(net, x[rows], mirror)
        base = probabilities(load_checkpoint(args.data, None), x[rows], mirror)
        for w in [float(v) for v in args.blend.split(',')]:
            acc, recall = accuracy((1 - w) * p + w * base, y[rows], classes)
            print('%s%s%s, face-api share %.2f: %.4f %s' % (args.set, ' half ' + args.half if args.half else '', ' mirror' if mirror else '', w, acc, {k: round(v, 2) for k, v in recall.items()}))


def cmd_export(args):
    """face-api's manifest + one float32 shard, the tensors in face-api's order, names and shapes."""
    net = load_checkpoint(args.data, args.checkpoint)
    weights = net.tf_weights()
    _, order = load_weights(os.path.join(args.data, 'faceapi-expression'))
    os.makedirs(args.to, exist_ok=True)
    shard = 'face_expression_model.bin'
    with open(os.path.join(args.to, shard), 'wb') as f:
        for name in order:
            f.write(weights[name].astype('<f4').tobytes())
    entries = [json.dumps({'name': n, 'shape': list(weights[n].shape), 'dtype': 'float32'}) for n in order]
    with open(os.path.join(args.to, 'face_expression_model-weights_manifest.json'), 'w') as f:
        f.write('[{"paths": ["%s"], "weights": [\n  %s\n]}]\n' % (shard, ',\n  '.join(entries)))
    print('wrote %s (%d tensors)' % (args.to, len(order)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('command', choices=['check', 'train', 'eval', 'export'])
    parser.add_argument('--data', default='/tmp/visage-fer-net')
    parser.add_argument('--epochs', type=int, default=6)
    parser.add_argument('--lr', type=float, default=3e-4)
    parser.add_argument('--wd', type=float, default=0.0)
    parser.add_argument('--smoothing', type=float, default=0.0)
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--freeze', type=int, default=0, help='dense blocks kept frozen, from the input')
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--limit', type=int, default=0)
    parser.add_argument('--out', default='/tmp/visage-fer-net/run')
    parser.add_argument('--checkpoint')
    # Choices are made on the tune part or CK+ half A only; bench/emotion.ts reports the rest.
    parser.add_argument('--set', default='tune', choices=['tune', 'ckplus6'])
    parser.add_argument('--half', choices=['A'])
    parser.add_argument('--blend', default='0')
    parser.add_argument('--to')
    args = parser.parse_args()
    {'check': cmd_check, 'train': cmd_train, 'eval': cmd_eval, 'export': cmd_export}[args.command](args)


if __name__ == '__main__':
    main()
