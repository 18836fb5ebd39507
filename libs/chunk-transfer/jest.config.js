module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'chunk-transfer',
};
