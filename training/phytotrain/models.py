"""Networks of the recipe: a ResNet (18 layers, any width, optional bias on every
convolution so the built-in NDSB pack's BN-folded weights load), MobileNetV3 students, and
the wrapper that gives the exported graph its two outputs (probabilities, features)."""
import copy

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper


class Block(nn.Module):
    def __init__(self, cin, cout, stride, bias):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=bias)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=bias)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=bias), nn.BatchNorm2d(cout))

    def forward(self, x):
        idt = x if self.down is None else self.down(x)
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + idt)


class ResNet(nn.Module):
    """ResNet-18 layout (blocks per stage configurable) with a feature output."""

    def __init__(self, in_ch, n_classes, widths=(64, 128, 256, 512), blocks=(2, 2, 2, 2), bias=True, drop=0.0):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, widths[0], 7, 2, 3, bias=bias)
        self.bn1 = nn.BatchNorm2d(widths[0])
        layers, cin = [], widths[0]
        for i, (w, n) in enumerate(zip(widths, blocks)):
            blks = []
            for j in range(n):
                blks.append(Block(cin, w, 2 if (j == 0 and i > 0) else 1, bias))
                cin = w
            layers.append(nn.Sequential(*blks))
        self.layers = nn.ModuleList(layers)
        self.drop = nn.Dropout(drop) if drop > 0 else nn.Identity()
        self.fc = nn.Linear(cin, n_classes)
        self.feature_dim = cin

    def features(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.max_pool2d(x, 3, 2, 1)
        for l in self.layers:
            x = l(x)
        return torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)

    def forward(self, x):
        return self.fc(self.drop(self.features(x)))


def _onnx_weights(path):
    """The NDSB pack's convolutions and fc, keyed by their PyTorch module path."""
    m = onnx.load(str(path))
    init = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    out = {}
    for n in m.graph.node:
        if n.op_type == "Conv":
            key = n.name.replace("/net/m/", "").replace("/Conv", "").strip("/").replace("/", ".")
            # "layer1.layer1.0.conv1" -> "layer1.0.conv1"
            parts = key.split(".")
            if parts[0].startswith("layer"):
                parts = parts[1:]
            key = ".".join(parts).replace("downsample.downsample.0", "downsample.0")
            out[key] = (init[n.input[1]], init[n.input[2]])
    out["fc"] = (init["net.m.fc.weight"], init["net.m.fc.bias"])
    return out


def _tv_to_ours(key):
    # torchvision names: conv1, layerS.B.conv1, layerS.B.downsample.0
    if key == "conv1" or key == "fc":
        return key
    s, b, rest = key.split(".", 2)
    stage = int(s.replace("layer", "")) - 1
    rest = rest.replace("downsample.0", "down.0")
    return f"layers.{stage}.{b}.{rest}"


def ndsb_resnet18(onnx_path, in_ch, n_classes, invert_stem=True, blocks=(2, 2, 2, 2), keep_fc=False, standardise=False):
    """A ResNet-18 initialised from the built-in NDSB pack's base.onnx (BN folded, one-channel
    stem). The pack's graph computes z = (1 - x - 0.023372) / 0.107842 before conv1; with the
    manifest normalising x as (x - 0.976628) / 0.107842 (= -z), the stem is negated so the
    network starts exactly where the NDSB model is, and replicated (divided by the channel
    count) over RGB so a gray crop gives the NDSB model's response. BatchNorm layers start
    as identity; bn_calibrate() then makes them reproduce the folded network on real data.
    blocks < 2 per stage keeps the first blocks (a shallower student)."""
    w = _onnx_weights(onnx_path)
    net = ResNet(in_ch, n_classes, blocks=blocks, bias=True)
    sd = net.state_dict()
    for k, (wt, b) in w.items():
        ok = _tv_to_ours(k)
        if k == "fc":
            if keep_fc:
                if wt.shape[0] != n_classes:
                    raise ValueError(f"keep_fc: {onnx_path} has {wt.shape[0]} classes, the pack {n_classes}")
                sd["fc.weight"] = torch.from_numpy(wt.copy())
                sd["fc.bias"] = torch.from_numpy(b.copy())
            continue
        if ok + ".weight" not in sd:
            if int(ok.split(".")[2]) < min(blocks):
                raise KeyError(f"{onnx_path}: {k} has no place in the network")
            continue  # a dropped block
        wt = torch.from_numpy(wt.copy())
        if ok == "conv1":
            if invert_stem:
                wt = -wt
            wt = wt.repeat(1, in_ch, 1, 1) / in_ch
        sd[ok + ".weight"] = wt
        sd[ok + ".bias"] = torch.from_numpy(b.copy())
    net.load_state_dict(sd)
    if standardise:
        _standardise_filters(net)
    return net


@torch.no_grad()
def _standardise_filters(net):
    """Rescale every convolution's filters to the norm of a Kaiming initialisation. The
    folded NDSB filters are 2 to 5 times smaller than that, which multiplies SGD's
    effective learning rate behind BatchNorm by 4 to 25 (the pretrained features move
    fast). The BatchNorm after each convolution undoes the scale (bn_calibrate reads
    _unscale), so the network's function is unchanged. Optional ("standardise": true):
    on the cyano tuning fold it did not help (the features need to move)."""
    pairs = [(net.conv1, net.bn1)]
    for layer in net.layers:
        for b in layer:
            pairs += [(b.conv1, b.bn1), (b.conv2, b.bn2)]
            if b.down is not None:
                pairs.append((b.down[0], b.down[1]))
    for conv, bn in pairs:
        w = conv.weight
        fan = w.shape[1] * w.shape[2] * w.shape[3]
        norm = w.reshape(w.shape[0], -1).norm(dim=1).clamp_min(1e-8)
        s = (2.0 / fan) ** 0.5 * fan ** 0.5 / norm
        w.mul_(s[:, None, None, None])
        if conv.bias is not None:
            conv.bias.mul_(s)
        bn._unscale = 1.0 / s


NDSB_MEAN = 0.976628  # 1 - 0.023372
NDSB_STD = 0.107842


@torch.no_grad()
def bn_calibrate(net, batches):
    """Make every BatchNorm reproduce its input (the BN-free, folded network) on real data:
    running statistics from the data, weight = std, bias = mean. Training then starts from
    the pretrained function with BN's conditioning."""
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
        m.weight.fill_(1)
        m.bias.fill_(0)
    # Identity pass: put BN in eval with mean 0 var 1 so the calibration sees the folded
    # network's activations; collect stats with hooks.
    stats = {}

    def hook(m, inp, out):
        x = inp[0]
        s = stats.setdefault(m, [0, 0.0, 0.0])
        s[0] += x.shape[0] * x.shape[2] * x.shape[3]
        s[1] += x.sum(dim=(0, 2, 3)).double()
        s[2] += (x.double() ** 2).sum(dim=(0, 2, 3))

    for m in bns:
        m.eval()
        m.running_mean.zero_()
        m.running_var.fill_(1 - m.eps)
        m.weight.copy_(getattr(m, "_unscale", torch.ones_like(m.weight)))  # undo the filter rescale
    hs = [m.register_forward_hook(hook) for m in bns]
    net.eval()
    for x in batches:
        net(x)
    for h in hs:
        h.remove()
    for m in bns:
        n, s1, s2 = stats[m]
        mean = s1 / n
        var = (s2 / n - mean ** 2).clamp_min(1e-6)
        m.running_mean.copy_(mean.float())
        m.running_var.copy_(var.float())
        u = getattr(m, "_unscale", torch.ones_like(m.weight))
        m.weight.copy_(torch.sqrt(var + m.eps).float() * u)
        m.bias.copy_(mean.float() * u)
        m.momentum = 0.1


class MobileNetStudent(nn.Module):
    """torchvision MobileNetV3 (small or large) with a feature output."""

    def __init__(self, in_ch, n_classes, size="small", drop=0.2, width=1.0):
        super().__init__()
        import torchvision
        ctor = torchvision.models.mobilenet_v3_small if size == "small" else torchvision.models.mobilenet_v3_large
        m = ctor(weights=None, width_mult=width)
        if in_ch != 3:
            c = m.features[0][0]
            m.features[0][0] = nn.Conv2d(in_ch, c.out_channels, c.kernel_size, c.stride, c.padding, bias=False)
        self.body = m.features
        last = m.classifier[0]
        self.head = nn.Sequential(nn.Linear(last.in_features, last.out_features), nn.Hardswish())
        self.drop = nn.Dropout(drop)
        self.fc = nn.Linear(last.out_features, n_classes)
        self.feature_dim = last.out_features

    def features(self, x):
        x = self.body(x)
        return self.head(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))

    def forward(self, x):
        return self.fc(self.drop(self.features(x)))


def build(arch, in_ch, n_classes, init_onnx=None, keep_fc=False, standardise=False):
    """arch: resnet18-ndsb (NDSB init), resnet18, resnet10-ndsb (first block of each stage),
    resnet18-wF / resnet10-wF (width factor F, random init), mnv3-small, mnv3-large,
    mnv3-large-wF."""
    if arch == "resnet18-ndsb":
        return ndsb_resnet18(init_onnx, in_ch, n_classes, keep_fc=keep_fc, standardise=standardise)
    if arch == "resnet10-ndsb":
        return ndsb_resnet18(init_onnx, in_ch, n_classes, blocks=(1, 1, 1, 1), keep_fc=keep_fc, standardise=standardise)
    if arch == "resnet18":
        return ResNet(in_ch, n_classes, bias=False)
    if arch.startswith("resnet18-w"):
        f = float(arch[len("resnet18-w"):])
        return ResNet(in_ch, n_classes, widths=tuple(int(round(c * f)) for c in (64, 128, 256, 512)), bias=False)
    if arch.startswith("resnet10-w"):
        f = float(arch[len("resnet10-w"):])
        return ResNet(in_ch, n_classes, widths=tuple(int(round(c * f)) for c in (64, 128, 256, 512)), blocks=(1, 1, 1, 1), bias=False)
    if arch == "mnv3-small":
        return MobileNetStudent(in_ch, n_classes, "small")
    if arch == "mnv3-large":
        return MobileNetStudent(in_ch, n_classes, "large")
    if arch.startswith("mnv3-large-w"):
        return MobileNetStudent(in_ch, n_classes, "large", width=float(arch[len("mnv3-large-w"):]))
    raise ValueError(f"unknown arch {arch}")


class ViewAveraged(nn.Module):
    """Test-time views inside the network: the image and its transpose (a reflection in
    the diagonal, one of the right-angle rotations and flips the training augmentation
    draws) go through the backbone as one batch, and their features are averaged before
    the classifier, so the logits are the two views' mean. A plankter or a filament has no
    preferred orientation under the microscope; averaging two orientations removes part
    of the network's own orientation noise, for twice the computation. In the ONNX graph
    it is a Transpose and a Concat before the backbone and two Slices after it: the pack's
    contract and the app are unchanged, and the int8 twin quantises the same convolutions."""

    def __init__(self, net):
        super().__init__()
        self.net = net
        self.fc = net.fc  # prior_correct and the exported head use the same layer
        self.feature_dim = net.feature_dim

    def features(self, x):
        both = torch.cat([x, x.transpose(2, 3)], 0)
        f0, f1 = self.net.features(both).chunk(2, 0)
        return (f0 + f1) * 0.5

    def forward(self, x):
        return self.fc(self.features(x))


class Exported(nn.Module):
    """What goes into the ONNX file: probabilities (softmax) and features."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        f = self.net.features(x)
        logits = self.net.fc(f)
        return torch.softmax(logits, dim=1), f


def _eff(conv, bn):
    """Importance of a convolution's output channels: the L1 norm of each filter times the
    BatchNorm scale that follows it (the filter's weight once BN is folded)."""
    w = conv.weight.detach().abs().sum(dim=(1, 2, 3))
    return w * bn.weight.detach().abs() / torch.sqrt(bn.running_var + bn.eps)


def _copy_conv(dst, src, out_idx, in_idx):
    dst.weight.data.copy_(src.weight.data[out_idx][:, in_idx])
    if src.bias is not None and dst.bias is not None:
        dst.bias.data.copy_(src.bias.data[out_idx])


def _copy_bn(dst, src, idx):
    for k in ("weight", "bias", "running_mean", "running_var"):
        getattr(dst, k).data.copy_(getattr(src, k).data[idx])


@torch.no_grad()
def prune_resnet(net, factor):
    """A ResNet with every width multiplied by factor, its weights the most important
    channels of net's (structured L1 pruning): each stage keeps one channel set for its
    residual stream (chosen from the stem, the blocks' second convolutions and the
    downsample), each block its own set inside. BatchNorm statistics then need
    recalibrating on data (bn_recalibrate)."""
    widths = [int(round(l[0].conv2.out_channels * factor)) for l in net.layers]
    blocks = [len(l) for l in net.layers]
    bias = net.conv1.bias is not None
    new = ResNet(net.conv1.in_channels, net.fc.out_features, widths=tuple(widths), blocks=tuple(blocks), bias=bias)
    streams = []
    for i, layer in enumerate(net.layers):
        imp = torch.zeros(layer[0].conv2.out_channels)
        for b in layer:
            imp += _eff(b.conv2, b.bn2)
            if b.down is not None:
                imp += _eff(b.down[0], b.down[1])
        if i == 0:
            imp += _eff(net.conv1, net.bn1)
        streams.append(torch.sort(torch.topk(imp, widths[i]).indices).values)
    all_in = torch.arange(net.conv1.in_channels)
    _copy_conv(new.conv1, net.conv1, streams[0], all_in)
    _copy_bn(new.bn1, net.bn1, streams[0])
    prev = streams[0]
    for i, (lo, ln) in enumerate(zip(net.layers, new.layers)):
        for j, (bo, bn_) in enumerate(zip(lo, ln)):
            inner = torch.sort(torch.topk(_eff(bo.conv1, bo.bn1), bn_.conv1.out_channels).indices).values
            cin = prev if j == 0 else streams[i]
            _copy_conv(bn_.conv1, bo.conv1, inner, cin)
            _copy_bn(bn_.bn1, bo.bn1, inner)
            _copy_conv(bn_.conv2, bo.conv2, streams[i], inner)
            _copy_bn(bn_.bn2, bo.bn2, streams[i])
            if bo.down is not None:
                _copy_conv(bn_.down[0], bo.down[0], streams[i], cin)
                _copy_bn(bn_.down[1], bo.down[1], streams[i])
        prev = streams[i]
    new.fc.weight.data.copy_(net.fc.weight.data[:, streams[-1]])
    new.fc.bias.data.copy_(net.fc.bias.data)
    return new


@torch.no_grad()
def bn_recalibrate(net, batches):
    """Recompute every BatchNorm's running statistics on data (after pruning)."""
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    net.train()
    for x in batches:
        net(x)
    for m in bns:
        m.momentum = 0.1
    net.eval()


@torch.no_grad()
def fold_bn(net):
    """A copy of a ResNet with every BatchNorm folded into the convolution before it (a
    bias on every convolution, BatchNorm replaced by identity): the function the ONNX file
    computes, in PyTorch."""
    net = copy.deepcopy(net).eval()

    def fold(conv, bn):
        s = (bn.weight.double() / torch.sqrt(bn.running_var.double() + bn.eps))
        w = conv.weight.double() * s[:, None, None, None]
        b = conv.bias.double() if conv.bias is not None else torch.zeros_like(s)
        b = (b - bn.running_mean.double()) * s + bn.bias.double()
        new = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, bias=True)
        new.weight.data.copy_(w.float())
        new.bias.data.copy_(b.float())
        return new

    net.conv1, net.bn1 = fold(net.conv1, net.bn1), nn.Identity()
    for layer in net.layers:
        for b in layer:
            b.conv1, b.bn1 = fold(b.conv1, b.bn1), nn.Identity()
            b.conv2, b.bn2 = fold(b.conv2, b.bn2), nn.Identity()
            if b.down is not None:
                b.down = nn.Sequential(fold(b.down[0], b.down[1]))
    return net


@torch.no_grad()
def load_exported_resnet(path, in_ch, n_classes):
    """The ResNet a pack's base.onnx computes, back in PyTorch: the file export_onnx wrote
    from ship(net) (BatchNorm folded, weights float16-exact, prior correction in the fc
    bias), its initialisers named by the network's own state_dict. Exporting it again
    (with test_views 2, say) changes how the pack looks at an image without training it
    again. A graph that already averages views, or whose weights do not fill this layout
    exactly, is refused with its path."""
    m = onnx.load(str(path))
    if any(n.op_type == "Transpose" for n in m.graph.node):
        raise ValueError(f"{path}: this model already averages views (a Transpose in its graph); "
                         "give the single-view base.onnx the recipe trained")
    sd = {}
    for init in m.graph.initializer:
        if not init.name.startswith("net."):
            continue  # a constant of the graph, not a weight
        key = init.name[len("net."):].removesuffix("_fp16")
        sd[key] = torch.from_numpy(numpy_helper.to_array(init).astype(np.float32))
    net = fold_bn(ResNet(in_ch, n_classes, bias=True))
    try:
        net.load_state_dict(sd, strict=True)
    except RuntimeError as e:
        raise ValueError(f"{path}: not a ResNet-18 of {in_ch} input channels and {n_classes} classes "
                         f"as export_onnx writes it: {e}") from None
    return net.eval()


@torch.no_grad()
def round_fp16(net):
    """Round every weight to the nearest float16 value (kept as float32): the ONNX file
    stores them as float16 (half the size) and computes in float32, so this is exactly
    the function it computes."""
    for p in net.parameters():
        p.data.copy_(p.data.half().float())
    return net


@torch.no_grad()
def prior_correct(net, counts, power):
    """Shift the classifier's logits from the prior it was trained under to the data's.

    Trained with class c drawn in proportion to n_c ** power (train.class_sampling_weights),
    the network's softmax estimates the class posterior under that sampling prior; the
    posterior under the data's own prior (c in proportion to n_c) is that times
    n_c ** (1 - power), renormalised (Menon et al. 2021, "Long-tail learning via logit
    adjustment"). Adding (1 - power) * log n_c to the last layer's bias does it inside the
    network, so the pack's probabilities are those of the data's prior, calibrated for a
    sample with the training data's mix, and its top-1 the most probable class there.
    The bias is rounded to float16 again (the pack stores it so)."""
    counts = np.maximum(np.asarray(counts, dtype=np.float64), 1.0)
    shift = torch.from_numpy((1.0 - power) * np.log(counts)).float()
    net.fc.bias.add_(shift)
    net.fc.bias.copy_(net.fc.bias.half().float())
    return net
