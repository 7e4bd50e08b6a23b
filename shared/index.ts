export { assertPixelImage, resizeArea, type Box, type PixelImage } from './image/image.ts';
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
} from './image/preprocess.ts';
export {
  evaluationSchema,
  fileEntrySchema,
  formatManifest,
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
} from './inference/inference.ts';
export { SELF_TEST_TOLERANCE, selfTestDifference, selfTestInputs, selfTestSchema, type SelfTest } from './inference/self-test.ts';
export { PIXEL_TEST_SIZE, pixelTestDifference, pixelTestImage, pixelTestSchema, type PixelTest } from './inference/pixel-test.ts';
export { createJpegDecoder, decodeJpegFor, JpegDecodeError, type JpegDecoder, type JpegScale } from './image/jpeg-decoder.ts';
export { applyOrientation, exifOrientation } from './image/orientation.ts';
export { mulberry32 } from './random.ts';
export { compileForward, type CompileOptions, type ForwardPlan } from './inference/fused-model.ts';
export { heapF64, kernelsOn, ptr, scratchF32, withScratch, type SimdKernels } from './inference/wasm-kernels.ts';
export { winogradApplies, winogradConv2D, winogradFilterFloats, winogradFusedConv2D, winogradScratchFloats, winogradTransformBytes, type WinogradFusedConv2DOptions } from './inference/winograd-conv.ts';
export { cellBox, cellExtent, largestRegion, STAIN_MARGIN, type CellExtent } from './cell-window.ts';
export { DOMAIN_STATISTICS, domainProfileSchema, domainScore, domainScoreParts, domainStatistics, fitDomainProfile, isOutOfDomain, needsFeatures, REVIEW_REASONS, reviewReasons, type DomainProfile, type NetworkFeatures, type ReviewReason } from './domain.ts';
export { featureDistance, meanFeatures, type FeatureProfile, type FeatureRows } from './domain-features.ts';
export {
  MANIFEST_FILE,
  ModelVersionError,
  parseManifestBytes,
  readModelVersion,
  REPORT_FILE,
  verifyFile,
  type ModelVersionFiles,
  type ReadModelVersionOptions,
} from './model-version.ts';
