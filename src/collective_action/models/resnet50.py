"""torchvision's ResNet-50 (appendix C, paper scale)."""
from __future__ import annotations

from torch import nn

from .banks import ModuleBank
from .base import ModelKind


def resnet50(n_classes: int, stem: str, pretrained: bool) -> nn.Module:
    """torchvision's ResNet-50. stem 'cifar' replaces the 7x7 stride-2 convolution and the max
    pool by one 3x3 stride-1 convolution (the usual choice for 32x32 inputs, which the ImageNet
    stem would shrink to 8x8 before the first block); 'imagenet' keeps torchvision's stem."""
    import torchvision

    weights = torchvision.models.ResNet50_Weights.IMAGENET1K_V2 if pretrained else None
    model = torchvision.models.resnet50(weights=weights)
    model.fc = nn.Linear(model.fc.in_features, n_classes)
    if stem == "cifar":
        model.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
        model.maxpool = nn.Identity()
    elif stem != "imagenet":
        raise ValueError(f"unknown ResNet stem '{stem}' (cifar, imagenet)")
    return model


class ResNet50(ModelKind):
    name = "resnet50"
    description = "torchvision's ResNet-50 (appendix C, paper scale)"
    takes = ["image"]
    parameters = {
        "stem": {"type": "string", "enum": ["cifar", "imagenet"], "default": "cifar",
                 "description": "'cifar' (default): one 3x3 stride-1 convolution and no max pool, for 32x32 inputs "
                                "(the paper does not say; the ImageNet stem would shrink 32x32 images to 8x8 before "
                                "the first block). 'imagenet': torchvision's 7x7 stride-2 stem and max pool "
                                "(Waterbirds at 224x224)."},
        "pretrained": {"type": "boolean", "default": False,
                       "description": "Start from torchvision's ImageNet weights (needs them downloaded); default false."},
    }

    @classmethod
    def make_bank(cls, spec, input_shape, n_classes, generators, dtype, device, channels_last=False, amp=False):
        def make():
            return resnet50(n_classes, cls.option(spec, "stem"), bool(cls.option(spec, "pretrained")))
        return ModuleBank(make, generators, len(input_shape), device, vectorize=spec.get("vectorize", True),
                          channels_last=channels_last, amp=amp)
