"""The networks the lessons look inside, defined in plain PyTorch.

Two small networks we train ourselves (``LeNet5`` on MNIST digits, ``TinyVGG`` on our
generated shapes) and three classic ImageNet networks (``alexnet``, ``vgg16``,
``resnet18``) written with exactly torchvision's module names and tensor shapes, so a
state_dict published by torchvision (``features.0.weight`` ... ``classifier.6.weight``,
``conv1`` / ``bn1`` / ``layer1.0.conv1`` ... ``fc``) loads unchanged with ``strict=True``.
torchvision itself is not needed.

ReLUs are not in-place: a forward hook on a convolution must see its output before the
ReLU changes it (the state_dict is the same either way).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


class LeNet5(nn.Module):
    """LeNet-5 (LeCun et al., 1998) with ReLU and max pooling, for 1 x 28 x 28 digits.

    Shapes: (N, 1, 28, 28) -> conv 5x5 pad 2 -> (N, 6, 28, 28) -> pool -> (N, 6, 14, 14)
    -> conv 5x5 -> (N, 16, 10, 10) -> pool -> (N, 16, 5, 5) -> 120 -> 84 -> classes.
    """

    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, kernel_size=5),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Linear(84, classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class TinyVGG(nn.Module):
    """The TinyVGG of CNN Explainer (Wang et al., 2020), for 3 x 64 x 64 images.

    Two blocks of conv-relu-conv-relu-maxpool with 3x3 kernels and no padding, then one
    linear classifier. Shapes with ``width=10``: 64 -> 62 -> 60 -> pool 30 -> 28 -> 26
    -> pool 13, so the classifier reads 10 x 13 x 13 = 1690 numbers.
    """

    def __init__(self, classes: int = 10, width: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, width, kernel_size=3),
            nn.ReLU(),
            nn.Conv2d(width, width, kernel_size=3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(width, width, kernel_size=3),
            nn.ReLU(),
            nn.Conv2d(width, width, kernel_size=3),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(width * 13 * 13, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


# --- ImageNet classics, torchvision-compatible --------------------------------------------------


class AlexNet(nn.Module):
    """AlexNet as torchvision defines it (one-GPU variant, 61,100,840 parameters)."""

    def __init__(self, classes: int = 1000) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(0.5),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Linear(4096, classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class VGG(nn.Module):
    """VGG without batch norm, as torchvision defines it; ``VGG16_LAYERS`` gives VGG-16."""

    def __init__(self, layers: tuple[int | str, ...], classes: int = 1000) -> None:
        super().__init__()
        modules: list[nn.Module] = []
        channels = 3
        for layer in layers:
            if layer == "M":
                modules.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                modules += [nn.Conv2d(channels, int(layer), kernel_size=3, padding=1), nn.ReLU()]
                channels = int(layer)
        self.features = nn.Sequential(*modules)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(4096, classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


VGG16_LAYERS: tuple[int | str, ...] = (
    64,
    64,
    "M",
    128,
    128,
    "M",
    256,
    256,
    256,
    "M",
    512,
    512,
    512,
    "M",
    512,
    512,
    512,
    "M",
)


class BasicBlock(nn.Module):
    """ResNet's two-convolution residual block: relu(bn2(conv2(relu(bn1(conv1 x)))) + shortcut x)."""

    def __init__(self, inplanes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample: nn.Module | None = None
        if stride != 1 or inplanes != planes:
            # The shortcut must match the block's output shape: a 1x1 convolution does it.
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, kernel_size=1, stride=stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.relu(out + shortcut)


class ResNet18(nn.Module):
    """ResNet-18 as torchvision defines it (11,689,512 parameters)."""

    def __init__(self, classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = nn.Sequential(BasicBlock(64, 64), BasicBlock(64, 64))
        self.layer2 = nn.Sequential(BasicBlock(64, 128, stride=2), BasicBlock(128, 128))
        self.layer3 = nn.Sequential(BasicBlock(128, 256, stride=2), BasicBlock(256, 256))
        self.layer4 = nn.Sequential(BasicBlock(256, 512, stride=2), BasicBlock(512, 512))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


#: Every architecture by the name manifests use, as a constructor taking the class count.
ARCHITECTURES: dict[str, Callable[[int], nn.Module]] = {
    "lenet5": LeNet5,
    "tinyvgg": TinyVGG,
    "alexnet": AlexNet,
    "vgg16": lambda classes: VGG(VGG16_LAYERS, classes),
    "resnet18": ResNet18,
}

#: The layers whose outputs the feature-map lesson shows, for networks where "every
#: module" would be wrong: a ResNet reuses one ReLU module inside each block, so its
#: blocks are shown whole. ``None`` means every module with a (C, H, W) output.
SHOWN_LAYERS: dict[str, tuple[str, ...] | None] = {
    "resnet18": (
        "conv1",
        "bn1",
        "relu",
        "maxpool",
        *(f"layer{stage}.{block}" for stage in range(1, 5) for block in range(2)),
    ),
}


def build(architecture: str, classes: int) -> nn.Module:
    """A freshly initialised network.

    Raises:
        ValueError: for an architecture name not in ``ARCHITECTURES``.
    """
    if architecture not in ARCHITECTURES:
        raise ValueError(f"Unknown architecture {architecture!r}; choose one of: {', '.join(ARCHITECTURES)}.")
    return ARCHITECTURES[architecture](classes)
