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


def run_log(out):
    """A function that prints a line and appends it to OUT/log.txt (the folder is made)."""
    os.makedirs(out, exist_ok=True)
    log = open(os.path.join(out, 'log.txt'), 'a')

    def say(s):
        print(s, flush=True)
        log.write(s + '\n')
        log.flush()

    return say


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


MFN_MEAN, MFN_STD = 127.5, 128.0


def tf_same_pad(x, kernel, stride):
    """TF 'same' padding for a square kernel: the odd pixel at the bottom/right."""
    def amount(n):
        total = max((math.ceil(n / stride) - 1) * stride + kernel - n, 0)
        return total // 2, total - total // 2

    top, bottom = amount(x.shape[2])
    left, right = amount(x.shape[3])
    return F.pad(x, (left, right, top, bottom))


class MobileFaceNetExpression(torch.nn.Module):
    """MobileFaceNet run from its TFLite operator list (bench/dump-mobilefacenet.ts writes it), every
    float constant a parameter (batch norms are folded into the convolutions' biases, PReLU is
    relu(x) + m * (x - |x|) as the file spells it), its 192-d embedding followed by a new linear
    layer to the 7 expressions ('fc/weights' [192, 7], 'fc/bias'). Activations are NCHW."""

    def __init__(self, data, fc=None):
        super().__init__()
        graph = json.load(open(os.path.join(data, 'mobilefacenet.json')))
        flat = np.fromfile(os.path.join(data, 'mobilefacenet.f32'), dtype='<f4')
        self.ops, self.tensors = graph['operators'], graph['tensors']
        self.input, self.output = graph['inputs'][0], graph['outputs'][0]
        self.params = torch.nn.ParameterDict()
        self.key = {}
        layout = {}
        for op in self.ops:
            if op['op'] in ('CONV_2D', 'DEPTHWISE_CONV_2D'):
                layout[op['inputs'][1]] = op['op']
        for i, t in enumerate(self.tensors):
            if t['offset'] is None:
                continue
            a = torch.from_numpy(flat[t['offset']:t['offset'] + int(np.prod(t['shape']))].reshape(t['shape']).copy())
            if layout.get(i) == 'CONV_2D':  # [out, h, w, in] -> OIHW
                a = a.permute(0, 3, 1, 2)
            elif layout.get(i) == 'DEPTHWISE_CONV_2D':  # [1, h, w, C] -> [C, 1, h, w]
                a = a.permute(3, 0, 1, 2)
            self.key[i] = 't%d' % i
            self.params[self.key[i]] = torch.nn.Parameter(a.contiguous())
        self.layout = layout
        dims = self.tensors[self.output]['shape'][-1]
        if fc is None:
            g = torch.Generator().manual_seed(7)
            fc = (torch.randn(dims, CLASSES, generator=g) * 0.01, torch.zeros(CLASSES))
        self.params['fc__weights'] = torch.nn.Parameter(torch.as_tensor(fc[0]).t().contiguous().float())
        self.params['fc__bias'] = torch.nn.Parameter(torch.as_tensor(fc[1]).float())

    def value(self, values, i, like=None):
        if i in self.key:
            p = self.params[self.key[i]]
            # A per-channel constant against an NCHW activation.
            return p.view(1, -1, 1, 1) if like is not None and like.dim() == 4 and p.dim() == 1 else p
        return values[i]

    def cut_at(self, op_index):
        """The tensor the trunk is cut at: the output of operator op_index (-1: the input image)."""
        return self.input if op_index < 0 else self.ops[op_index]['outputs'][0]

    def forward(self, x, start=-1, stop=None):
        """x: float NCHW 0..255 RGB, or (start >= 0) the output of operator `start`; returns the 7
        logits, or (stop) the output of operator `stop`."""
        values = {self.input: (x - MFN_MEAN) / MFN_STD} if start < 0 else {self.cut_at(start): x}
        for op in self.ops[start + 1:] if stop is None else self.ops[start + 1:stop + 1]:
            kind, ins = op['op'], op['inputs']
            a = values.get(ins[0]) if ins[0] in values else None
            if kind in ('CONV_2D', 'DEPTHWISE_CONV_2D'):
                w = self.params[self.key[ins[1]]]
                b = self.params[self.key[ins[2]]] if len(ins) > 2 and ins[2] >= 0 else None
                k, s = w.shape[2], op['stride'][0]
                xin = tf_same_pad(a, k, s) if op['same'] else a
                y = F.conv2d(xin, w, b, stride=s, groups=w.shape[0] if kind == 'DEPTHWISE_CONV_2D' else 1)
                if op['activation'] == 'RELU':
                    y = F.relu(y)
                elif op['activation'] != 'NONE':
                    raise ValueError('activation ' + op['activation'])
            elif kind == 'RELU':
                y = F.relu(a)
            elif kind == 'ABS':
                y = a.abs()
            elif kind in ('ADD', 'SUB', 'MUL'):
                u, v = ins
                like = values.get(u, values.get(v))
                p, q = self.value(values, u, like), self.value(values, v, like)
                y = p + q if kind == 'ADD' else p - q if kind == 'SUB' else p * q
            elif kind == 'RESHAPE':
                y = a.flatten(1)
            else:
                raise ValueError('operator ' + kind)
            values[op['outputs'][0]] = y
        if stop is not None:
            return values[self.cut_at(stop)]
        return self.embed_to_logits(values[self.output])

    def embed_to_logits(self, e):
        return F.linear(e, self.params['fc__weights'], self.params['fc__bias'])

    def embedding(self, x):
        fc = self.embed_to_logits
        self.embed_to_logits = lambda e: e
        try:
            return self.forward(x)
        finally:
            self.embed_to_logits = fc

    def tflite_weights(self):
        """The parameters in the TFLite file's layouts by tensor name, then fc/weights [192, 7] and fc/bias."""
        out = {}
        for i, key in self.key.items():
            t = self.params[key].detach()
            if self.layout.get(i) == 'CONV_2D':
                t = t.permute(0, 2, 3, 1)
            elif self.layout.get(i) == 'DEPTHWISE_CONV_2D':
                t = t.permute(1, 2, 3, 0)
            out[self.tensors[i]['name']] = t.contiguous().numpy()
        out['fc/weights'] = self.params['fc__weights'].detach().t().contiguous().numpy()
        out['fc/bias'] = self.params['fc__bias'].detach().numpy()
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


def fit_and_tune(y, args):
    """The rows trained on (the training part less the tune part; --limit: a seeded sample of them,
    for quick runs), the tune part's rows, and class weights by 1/sqrt(share), mean 1 over the samples."""
    tune = tune_mask(y)
    fit = np.flatnonzero(~tune)
    if args.limit:
        fit = np.sort(np.random.default_rng(args.seed).permutation(fit)[:args.limit])
    counts = np.bincount(y[fit], minlength=CLASSES)
    # A class a small --limit sample lacks weighs 0, not 1/sqrt(0): label smoothing reads every
    # class's weight, and an infinite one made the loss NaN.
    share = counts / counts.sum()
    cw = np.divide(1, np.sqrt(share), out=np.zeros(CLASSES), where=counts > 0)
    cw = cw / (cw[y[fit]].mean())
    return fit, np.flatnonzero(tune), cw


def train_epochs(net, opt, args, rng, fit, y, cw, say, logits, tune, best, log_every):
    """--epochs of Adam over `fit` with a cosine decay, each saved and scored on the tune part.
    logits(idx, rng) is the net's output for those rows (drawing any augmentation from rng);
    tune() is (accuracy, recall by class); best is (accuracy, epoch) to beat."""
    class_weight = torch.tensor(cw, dtype=torch.float32)
    total = math.ceil(len(fit) / args.batch) * args.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))
    for epoch in range(1, args.epochs + 1):
        net.train()
        order = fit[rng.permutation(len(fit))]
        started = time.time()
        seen, loss_sum = 0, 0.0
        for s in range(0, len(order), args.batch):
            idx = np.sort(order[s:s + args.batch])
            loss = F.cross_entropy(logits(idx, rng), torch.from_numpy(y[idx]), weight=class_weight, label_smoothing=args.smoothing)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            seen += len(idx)
            loss_sum += float(loss) * len(idx)
            if (s // args.batch) % log_every == 0:
                say('  epoch %d: %d/%d, loss %.4f, %.0f s' % (epoch, seen, len(order), loss_sum / seen, time.time() - started))
        seconds = time.time() - started
        net.eval()
        acc, recall = tune()
        torch.save(net.state_dict(), os.path.join(args.out, 'epoch-%d.pt' % epoch))
        say('epoch %d: loss %.4f, tune %.4f (mirror-averaged), recall %s, %.0f s train' % (
            epoch, loss_sum / seen, acc, {k: round(v, 2) for k, v in recall.items()}, seconds))
        if acc > best[0]:
            best = (acc, epoch)
    say('best epoch %d: tune %.4f' % (best[1], best[0]))


def cmd_train(args):
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    rng = np.random.default_rng(args.seed)
    x, y, _ = load_set(args.data, 'train')
    fit, tune_idx, cw = fit_and_tune(y, args)
    net = base_net(args.data)
    frozen = ['dense%d' % b for b in range(args.freeze)]
    trainable = [p for k, p in net.params.items() if not any(k.startswith(f + '__') for f in frozen)]
    for k, p in net.params.items():
        p.requires_grad = any(p is q for q in trainable)
    opt = torch.optim.Adam(trainable, lr=args.lr, weight_decay=args.wd)
    say = run_log(args.out)

    say('train %s: %d fit, %d tune, class weights %s' % (' '.join(sys.argv[1:]), len(fit), len(tune_idx), np.round(cw, 2).tolist()))
    net.eval()
    acc0, _ = accuracy(probabilities(net, x[tune_idx]), y[tune_idx])
    say('epoch 0: tune %.4f (mirror-averaged)' % acc0)
    train_epochs(
        net, opt, args, rng, fit, y, cw, say,
        logits=lambda idx, rng: net(augment(to_nchw(x[idx]), rng)),
        tune=lambda: accuracy(probabilities(net, x[tune_idx]), y[tune_idx]),
        best=(acc0, 0), log_every=50)


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


def load_cut(data, name, cut):
    """The trunk's output at operator `cut` for every face and its mirror image (dump-mobilefacenet.ts
    --cut), float16 NHWC, memory-mapped: (plain, mirrored)."""
    shape = None
    out = []
    for suffix in ('', '-mirror'):
        a = np.memmap(os.path.join(data, '%s.cut%d%s.f16' % (name, cut, suffix)), dtype='<f2', mode='r')
        out.append(a)
    return out


def cut_batch(arrays, idx, flip, hwc):
    """float32 NCHW features of rows idx, each from the mirror image's where flip is set."""
    plain, mirrored = arrays
    per = int(np.prod(hwc))
    rows = [(mirrored if f else plain)[i * per:(i + 1) * per] for i, f in zip(idx, flip)]
    return torch.from_numpy(np.stack(rows).astype(np.float32).reshape(len(idx), *hwc)).permute(0, 3, 1, 2).contiguous()


def mfn_probabilities(net, arrays, rows, cut, hwc, mirror_average=True, batch=64):
    out = []
    with torch.no_grad():
        for s in range(0, len(rows), batch):
            idx = rows[s:s + batch]
            p = F.softmax(net(cut_batch(arrays, idx, [False] * len(idx), hwc), start=cut), 1)
            if mirror_average:
                p = (p + F.softmax(net(cut_batch(arrays, idx, [True] * len(idx), hwc), start=cut), 1)) / 2
            out.append(p)
    return torch.cat(out)


def mfn_net(args, checkpoint=None):
    net = MobileFaceNetExpression(args.data)
    if checkpoint:
        net.load_state_dict(torch.load(checkpoint))
    return net


def cmd_check_mfn(args):
    """The port's 192-d embeddings against visage's ONNX graph of the TFLite file (< 1e-3)."""
    torch.set_num_threads(1)
    net = mfn_net(args).eval()
    worst = 0.0
    for name in ('validation', 'ckplus6', 'train'):
        ref = np.fromfile(os.path.join(args.data, name + '.mfn-check.f32'), dtype='<f4').reshape(-1, 192)
        x, _, _ = load_set(args.data, name)
        with torch.no_grad():
            got = torch.cat([net.embedding(to_nchw(x[s:min(s + 32, len(ref))])) for s in range(0, len(ref), 32)]).numpy()
        diff = float(np.abs(got - ref).max())
        worst = max(worst, diff)
        print('%s: %d faces, max abs embedding diff torch vs ONNX %.2e (values up to %.1f)' % (name, len(ref), diff, float(np.abs(ref).max())))
    if worst >= 1e-3:
        sys.exit('port differs from visage\'s ONNX graph')


def cmd_train_mfn(args):
    """MobileFaceNet frozen up to operator --cut (features dumped by ONNX Runtime), the rest and the
    new linear layer trained; a face's mirror image stands for the flip augmentation."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    rng = np.random.default_rng(args.seed)
    meta = json.load(open(os.path.join(args.data, 'train.json')))
    y = np.array(meta['labels'], dtype=np.int64)
    net = mfn_net(args)
    hwc = net.tensors[net.cut_at(args.cut)]['shape'][1:]
    arrays = load_cut(args.data, 'train', args.cut)
    fit, tune_idx, cw = fit_and_tune(y, args)
    # Only what runs after the cut is trained; the new layer at ten times the rate.
    trunk = [net.params[net.key[i]] for i in trained_tensors(net, args.cut)]
    head = [net.params['fc__weights'], net.params['fc__bias']]
    for p in net.parameters():
        p.requires_grad = False
    for p in trunk + head:
        p.requires_grad = True
    opt = torch.optim.Adam([{'params': trunk, 'lr': args.lr}, {'params': head, 'lr': args.lr * 10}], weight_decay=args.wd)
    say = run_log(args.out)

    say('train %s: %d fit, %d tune, %d trunk tensors trained, class weights %s' % (' '.join(sys.argv[1:]), len(fit), len(tune_idx), len(trunk), np.round(cw, 2).tolist()))
    train_epochs(
        net, opt, args, rng, fit, y, cw, say,
        logits=lambda idx, rng: net(cut_batch(arrays, idx, rng.random(len(idx)) < 0.5, hwc), start=args.cut),
        tune=lambda: accuracy(mfn_probabilities(net, arrays, tune_idx, args.cut, hwc), y[tune_idx]),
        best=(0.0, 0), log_every=100)


def trained_tensors(net, cut):
    """The trunk's tensors that operators after `cut` read (the ones training changes), by index."""
    used = set()
    for op in net.ops[cut + 1:]:
        used.update(i for i in op['inputs'] if i in net.key)
    return sorted(used)


def half_rounded(net):
    """The net with every parameter rounded to float16, as the shipped weights are."""
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(p.half().float())
    return net


def cmd_eval_mfn(args):
    """Mirror-averaged accuracy on the tune part and CK+ half A of the net (weights rounded to
    float16 as shipped), and of its blends with visage-net (--visage-net checkpoint) and face-api's
    net: shares in quarters, and the mean of the two sets that picks one."""
    torch.set_num_threads(args.threads)
    net = half_rounded(mfn_net(args, args.checkpoint)).eval()
    hwc = net.tensors[net.cut_at(args.cut)]['shape'][1:]
    tuned = load_checkpoint(args.data, args.visage_net) if args.visage_net else None
    base = load_checkpoint(args.data, None)
    results = {}
    for name in ('tune', 'ckplus6'):
        x, y, meta = load_set(args.data, 'train' if name == 'tune' else name)
        rows = np.flatnonzero(tune_mask(y)) if name == 'tune' else np.flatnonzero(np.array(meta['halfA']) == 1)
        classes = sorted(set(y.tolist())) if name == 'ckplus6' else None
        arrays = load_cut(args.data, 'train' if name == 'tune' else name, args.cut)
        p_m = mfn_probabilities(net, arrays, rows, args.cut, hwc)
        # face-api's and visage-net's probabilities do not change between runs: kept in the data folder.
        cached = os.path.join(args.data, 'eval-%s-%s.pt' % (name, os.path.basename(os.path.dirname(args.visage_net or 'none')) + os.path.basename(args.visage_net or '')))
        if os.path.exists(cached):
            p_f, p_v, p_f1 = torch.load(cached)
        else:
            p_f = probabilities(base, x[rows])
            p_v = probabilities(tuned, x[rows]) if tuned else p_f
            p_f1 = probabilities(base, x[rows], False)
            torch.save((p_f, p_v, p_f1), cached)
        # face-api's net as the default runs it (the crop alone), for comparison.
        results.setdefault('face-api alone, no mirror', {})[name] = accuracy(p_f1, y[rows], classes)
        for a in np.arange(0, 1.01, 0.25):
            for b in np.arange(0, 1.01 - a, 0.25):
                if tuned is None and b > 0:
                    continue
                acc, recall = accuracy(a * p_m + b * p_v + (1 - a - b) * p_f, y[rows], classes)
                results.setdefault((a, b), {})[name] = (acc, recall)
    for key, r in results.items():
        if isinstance(key, str):
            print('%s: tune %.4f, CK+ half A %.4f, mean %.4f' % (key, r['tune'][0], r['ckplus6'][0], (r['tune'][0] + r['ckplus6'][0]) / 2))
            continue
        a, b = key
        print('mobilefacenet %.2f, visage-net %.2f, face-api %.2f: tune %.4f, CK+ half A %.4f, mean %.4f; tune recall %s; half A recall %s' % (
            a, b, 1 - a - b, r['tune'][0], r['ckplus6'][0], (r['tune'][0] + r['ckplus6'][0]) / 2,
            {k: round(v, 2) for k, v in r['tune'][1].items()}, {k: round(v, 2) for k, v in r['ckplus6'][1].items()}))


def write_manifest(to, stem, weights, names):
    """face-api's manifest + one shard of float16 values (dtype float32, quantization float16)."""
    shard = stem + '.bin'
    with open(os.path.join(to, shard), 'wb') as f:
        for n in names:
            f.write(np.asarray(weights[n], dtype='<f2').tobytes())
    entries = [json.dumps({'name': n, 'shape': list(weights[n].shape), 'dtype': 'float32', 'quantization': {'dtype': 'float16'}}) for n in names]
    with open(os.path.join(to, stem + '-weights_manifest.json'), 'w') as f:
        f.write('[{"paths": ["%s"], "weights": [\n  %s\n]}]\n' % (shard, ',\n  '.join(entries)))
    return os.path.getsize(os.path.join(to, shard))


def cmd_export_mfn(args):
    """trunk: the tensors training changed, named and shaped as in the TFLite file; head: fc/*."""
    net = mfn_net(args, args.checkpoint)
    weights = net.tflite_weights()
    names = [net.tensors[i]['name'] for i in trained_tensors(net, args.cut)]
    os.makedirs(args.to, exist_ok=True)
    size = write_manifest(args.to, 'trunk', weights, names)
    size += write_manifest(args.to, 'head', weights, ['fc/weights', 'fc/bias'])
    print('wrote %s: %d trunk tensors and the head, %d bytes of float16' % (args.to, len(names), size))


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
    parser.add_argument('--net', default='faceapi', choices=['faceapi', 'mobilefacenet'])
    parser.add_argument('--cut', type=int, default=122, help='mobilefacenet: the operator whose output is dumped and frozen before')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--visage-net', help='mobilefacenet eval: visage-net\'s checkpoint, blended in')
    args = parser.parse_args()
    if args.net == 'mobilefacenet':
        {'check': cmd_check_mfn, 'train': cmd_train_mfn, 'eval': cmd_eval_mfn, 'export': cmd_export_mfn}[args.command](args)
    else:
        {'check': cmd_check, 'train': cmd_train, 'eval': cmd_eval, 'export': cmd_export}[args.command](args)


if __name__ == '__main__':
    main()
