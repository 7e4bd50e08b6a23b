export { assertPixelImage, resizeArea, type Box, type PixelImage } from './image.ts';
export {
  cropBoxFor,
  defaultPreprocessing,
  jpegScaleFor,
  normalizePixels,
  preparationKey,
  preparePixels,
  preprocess,
  stainBox,
  stainCentroid,
  DEFAULT_CELL_SCALE,
  type CropMode,
  type JpegScaleMode,
  type PreprocessingParams,
} from './preprocess.ts';
export {
  evaluationSchema,
  fileEntrySchema,
  manifestSchema,
  parseManifest,
  preprocessingSchema,
  quantizationDtypes,
  wasmKernelBuilds,
  type ClassMetrics,
  type Evaluation,
  type FileEntry,
  type Manifest,
  type QuantizationDtype,
  type WasmKernelBuild,
} from './manifest.ts';
export { argMax, confusionMatrix, evaluationFromConfusion } from './metrics.ts';
export { sha256Hex } from './hash.ts';
export {
  applyTemperature,
  dihedralVariants,
  finalProbabilities,
  inferenceSchema,
  needsReview,
  plainInference,
  variantCount,
  type InferencePolicy,
} from './inference.ts';
export { SELF_TEST_TOLERANCE, selfTestDifference, selfTestInputs, selfTestSchema, type SelfTest } from './self-test.ts';
export { PIXEL_TEST_SIZE, pixelTestDifference, pixelTestImage, pixelTestSchema, type PixelTest } from './pixel-test.ts';
export { createJpegDecoder, decodeJpegFor, JpegDecodeError, type JpegDecoder, type JpegScale } from './jpeg-decoder.ts';
export { applyOrientation, exifOrientation } from './orientation.ts';
export { mulberry32 } from './random.ts';
export { compileForward, type CompileOptions, type ForwardPlan } from './fused-model.ts';
export { heapF64, kernelsOn, ptr, scratchF32, withScratch, type SimdKernels } from './wasm-kernels.ts';
export { winogradApplies, winogradConv2D, winogradFilterFloats, winogradFusedConv2D, winogradScratchFloats, winogradTransformBytes, type WinogradFusedConv2DOptions } from './winograd-conv.ts';
export { cellBox, cellExtent, largestRegion, STAIN_MARGIN, type CellExtent } from './cell-window.ts';
export { DOMAIN_STATISTICS, domainProfileSchema, domainScore, domainStatistics, fitDomainProfile, isOutOfDomain, REVIEW_REASONS, reviewReasons, type DomainProfile, type ReviewReason } from './domain.ts';
