"""The detector network: a small U-Net on the frame and its flat-field copy, with a centre
heatmap and a box head at half resolution (CenterNet, Zhou et al. 2019, "Objects as
Points"). Everything the app needs is inside the exported graph: the flat field, the
sigmoid and the 3x3 peak test, so the app only reads peaks above a threshold."""
import torch
import torch.nn as nn
import torch.nn.functional as F

STRIDE = 2  # output cells per input pixel, per side
MULTIPLE = 32  # input sides must be multiples of this (five halvings)


def block(cin, cout, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Detector(nn.Module):
    """Stem at 1/2, encoder down to 1/32, a light decoder (1x1 merge, one 3x3) back to
    1/2: about 0.3 GMAC per 320x256 frame, so it trains on two CPU cores in minutes and
    runs in milliseconds."""

    def __init__(self, width=16):
        super().__init__()
        c = [width, width * 3 // 2, width * 5 // 2, width * 4, width * 6]  # 1/2 ... 1/32
        self.stem = block(6, c[0], 2)
        self.down = nn.ModuleList([nn.Sequential(block(c[i], c[i + 1], 2), block(c[i + 1], c[i + 1])) for i in range(4)])
        self.merge = nn.ModuleList([nn.Sequential(nn.Conv2d(c[i + 1] + c[i], c[i], 1, bias=False), nn.BatchNorm2d(c[i]), nn.ReLU(inplace=True), block(c[i], c[i])) for i in range(3, -1, -1)])
        self.heat = nn.Sequential(block(c[0], 24), nn.Conv2d(24, 1, 1))
        self.geom = nn.Sequential(block(c[0], 24), nn.Conv2d(24, 4, 1))
        nn.init.constant_(self.heat[-1].bias, -2.19)  # a prior of 0.1, so focal loss starts calm

    @staticmethod
    def flat_field(x):
        """The frame over its own smooth light (an 8x8 mean, then a 5x5 mean of those,
        scaled back up): vignetting and the lamp's colour drop out, the particles stay."""
        light = F.avg_pool2d(x, 8, 8)
        light = F.avg_pool2d(light, 5, 1, 2, count_include_pad=False)
        light = F.interpolate(light, scale_factor=8, mode="bilinear", align_corners=False)
        return x / (light + 0.02) - 1

    def features(self, x):
        x = torch.cat([x, self.flat_field(x)], 1)
        skips = [self.stem(x)]
        for d in self.down:
            skips.append(d(skips[-1]))
        y = skips[-1]
        for i, m in enumerate(self.merge):
            skip = skips[-2 - i]
            y = F.interpolate(y, size=skip.shape[-2:], mode="nearest")
            y = m(torch.cat([y, skip], 1))
        return y  # at 1/2

    def forward(self, x):
        """x: N x 3 x H x W RGB in [0, 1]; returns the heatmap's logits (N x 1 x H/2 x W/2)
        and the geometry (N x 4: centre offset x, y in cells, log width, log height in px)."""
        y = self.features(x)
        return self.heat(y), self.geom(y)


class Exported(nn.Module):
    """The graph the app runs: input `frame` (1 x 3 x H x W RGB in [0, 1], H and W multiples
    of 32); outputs `peaks` (the heat where it is a 3x3 local maximum, else 0) and
    `geometry`."""

    def __init__(self, det):
        super().__init__()
        self.det = det

    def forward(self, frame):
        logits, geom = self.det(frame)
        heat = torch.sigmoid(logits)
        peak = (F.max_pool2d(heat, 3, 1, 1) == heat).float()
        return heat * peak, geom
